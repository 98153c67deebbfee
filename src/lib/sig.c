/*
 * sig.c - the pipe guard of lib.h: SIGPIPE held off around a library's socket I/O.
 *
 * A library must not change signal dispositions, and MSG_NOSIGNAL is not available when
 * another library (OpenSSL) does the write(2). So the signal is blocked on the calling
 * thread for the call; a SIGPIPE the call raised is then pending on the thread and is
 * consumed with sigtimedwait before the old mask comes back. One that was pending before
 * the guard is left for the caller's own handling.
 */
#include "lib/lib.h"

#include <pthread.h>
#include <time.h>

void
lib_pipe_block(struct lib_pipe_guard *g)
{
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

void
lib_pipe_unblock(struct lib_pipe_guard *g)
{
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pend);
	if (!g->was_pending && sigismember(&pend, SIGPIPE)) {
		struct timespec zero = {0, 0};
		sigtimedwait(&set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}
