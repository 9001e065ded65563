/*
 * salvo: one binary, one subcommand per file (cli/cmd_*.c).  main() only
 * dispatches and turns the subcommand's return value into the exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/core/version.h"

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("salvo %s (protocol version %d)\n", SALVO_VERSION_STRING,
	       SALVO_PROTOCOL_VERSION);
	return SALVO_EXIT_OK;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"send", salvo_cmd_send, "send files and folders to a receiver"},
    {"recv", salvo_cmd_recv, "receive files into a folder (daemon)"},
    {"watch", salvo_cmd_watch, "send every file dropped into a folder"},
    {"ctl", salvo_cmd_ctl, "change the rate of a running send or watch"},
    {"plan", salvo_cmd_plan, "memory and tuning for a link"},
    {"config", salvo_cmd_config, "show or check the configuration"},
    {"keygen", salvo_cmd_keygen, "make a key pair, or show a public key"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: salvo COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(
	    out,
	    "\n'salvo COMMAND --help' describes each command; docs/CLI.md "
	    "and\nthe man page (man -l docs/salvo.1) describe them all.  "
	    "The receiver\nlistens on UDP port 7400 unless --port says "
	    "otherwise.\n"
	    "\nexample:\n"
	    "  salvo recv --dir /srv/incoming            # on the receiver\n"
	    "  salvo send ./photos receiver.example.org  # on the sender\n"
	    "A receiver serves the senders listed in its authorized_keys: "
	    "'salvo keygen\n--show --dir FOLDER' on a sender prints its "
	    "line (docs/SECURITY.md).\n"
	    "\nexit codes:\n"
	    "  0   success\n"
	    "  1   other failure\n"
	    "  2   bad usage or configuration\n"
	    "  3   peer unreachable (no answer within --timeout)\n"
	    "  4   verification failed\n"
	    "  5   receiver-side I/O error\n"
	    "  6   local I/O error\n"
	    "  7   peer went silent mid-transfer\n"
	    "  8   subcommand not implemented in this build\n"
	    "  9   partial: entries of a tree were skipped (send)\n"
	    "  130 interrupted\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SALVO_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return SALVO_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "salvo: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return SALVO_EXIT_USAGE;
}
