/* salvo config: not built yet; says so and fails. */
#include <stdio.h>

#include "cli/commands.h"

int salvo_cmd_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "salvo config: not implemented in this build yet\n");
	return SALVO_EXIT_UNIMPLEMENTED;
}
