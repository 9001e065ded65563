/*
 * The subcommands of the one salvo binary, and its exit codes.
 * Each subcommand lives in its own cli/cmd_<name>.c and returns an exit
 * code; only main() calls exit().
 */
#ifndef SALVO_CLI_COMMANDS_H
#define SALVO_CLI_COMMANDS_H

enum {
	SALVO_EXIT_OK = 0,
	SALVO_EXIT_FAILURE = 1,	    /* anything not listed below */
	SALVO_EXIT_USAGE = 2,	    /* bad flag, argument or config file */
	SALVO_EXIT_UNREACHABLE = 3, /* no answer from the peer in --timeout,
				     * or its port refused the handshake */
	SALVO_EXIT_VERIFY = 4,	    /* a file failed verification */
	SALVO_EXIT_REMOTE_IO = 5,   /* the receiver could not write */
	SALVO_EXIT_LOCAL_IO = 6,    /* a local file could not be read/written */
	SALVO_EXIT_TIMEOUT = 7,	    /* the peer went silent mid-transfer */
	SALVO_EXIT_UNIMPLEMENTED = 8, /* subcommand not built yet */
	SALVO_EXIT_PARTIAL = 9,	      /* send: the rest was sent, but entries
				       * of a tree could not be read (those
				       * skipped on purpose, symlinks,
				       * special files and names the
				       * protocol refuses, leave exit 0) */
	SALVO_EXIT_SOME_FAILED = 10,  /* send: files the receiver refused or
				       * could not store; the others were
				       * sent or skipped (all verified) */
	SALVO_EXIT_INTERRUPTED = 130, /* SIGINT / SIGTERM */
};

int salvo_cmd_send(int argc, char **argv);
int salvo_cmd_recv(int argc, char **argv);
int salvo_cmd_watch(int argc, char **argv);
int salvo_cmd_plan(int argc, char **argv);
int salvo_cmd_config(int argc, char **argv);
int salvo_cmd_keygen(int argc, char **argv);
int salvo_cmd_ctl(int argc, char **argv);

#endif
