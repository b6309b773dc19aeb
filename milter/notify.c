/*
 * NAME
 *	notify -- tell the service manager what the daemon is doing
 * SYNOPSIS
 *	notify_ready(server_sessions(), st->generation);
 *	notify_reloading(); ... notify_ready(...);
 *	notify_stopping(message_in_progress());
 * DESCRIPTION
 *	A unit with Type=notify (contrib/authfilter.service) learns from
 *	sd_notify(3) that the socket listens (READY=1: Postfix, ordered
 *	after us, starts only then), that a SIGHUP reload runs (RELOADING=1
 *	with MONOTONIC_USEC, which systemd 253 and later require for
 *	Type=notify-reload and older ones ignore, then READY=1), and that
 *	it drains (STOPPING=1).  STATUS= is the line "systemctl status"
 *	shows.  Without NOTIFY_SOCKET in the environment, or when built
 *	without libsystemd (configure --without-systemd), nothing is sent.
 * DIAGNOSTICS
 *	The first message that cannot be sent (a socket the daemon's user
 *	may not write to) is logged as a warning; the daemon serves on.
 */
#include "buildconf.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "lib/log.h"
#include "milter/notify.h"

#ifdef HAVE_LIBSYSTEMD
static atomic_int warned;

#define NOTIFY(...) do {						\
	int rc_ = sd_notifyf(0, __VA_ARGS__);				\
	if (rc_ < 0 && atomic_exchange(&warned, 1) == 0)		\
		log_msg(LOG_WARNING, "sd_notify to NOTIFY_SOCKET: %s",	\
		    strerror(-rc_));					\
} while (0)
#else
#define NOTIFY(...) do { } while (0)
#endif

void
notify_ready(size_t sessions, unsigned long gen)
{
	(void)sessions;
	(void)gen;
	NOTIFY("READY=1\nSTATUS=serving %zu session(s), config generation %lu",
	    sessions, gen);
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)ts;
	NOTIFY("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
notify_status(size_t sessions, unsigned long gen)
{
	(void)sessions;
	(void)gen;
	NOTIFY("STATUS=serving %zu session(s), config generation %lu",
	    sessions, gen);
}

void
notify_stopping(unsigned messages)
{
	(void)messages;
	NOTIFY("STOPPING=1\nSTATUS=stopping: waiting for %u message(s)",
	    messages);
}

const char *
notify_library(void)
{
#ifdef HAVE_LIBSYSTEMD
	return "libsystemd " LIBSYSTEMD_VERSION " (sd_notify)";
#else
	return "libsystemd: not built in (configure --without-systemd)";
#endif
}
