/* offline: verification that needs no server (exports, proofs, checkpoints). */
#ifndef SCOPECTL_OFFLINE_H
#define SCOPECTL_OFFLINE_H

enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_VERIFY = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_CONN = 3,
	CTL_EXIT_REFUSED = 4,
};

int cmd_verify_offline(int argc, char **argv);

#endif
