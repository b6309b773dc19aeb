/*
 * NAME
 *	status -- what the daemon says about itself: /status and the gauges
 * SYNOPSIS
 *	status_started(path);		once, serving
 *	status_reloaded(ok, &errs);	after each SIGHUP
 *	status_gauges(fp);		/metrics, after the counters
 *	json = status_json();		/status (authfilter status)
 * DESCRIPTION
 *	The state serving (configuration generation, keys), when it was
 *	loaded, the last reload and its errors, the sessions open, and the
 *	counters since start.  Read by the metrics endpoint's thread
 *	(metrics_http.c) while the main thread reloads: under a lock.
 */
#include "buildconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/metrics.h"
#include "milter/keyproc.h"
#include "milter/outbound_gauges.h"
#include "milter/server.h"
#include "milter/session.h"
#include "milter/state.h"
#include "milter/status.h"

static struct {
	pthread_mutex_t	 lock;
	char		*config;
	time_t		 started, loaded, reload_at;
	int		 reload_ok;	/* -1: no reload yet */
	char		*reload_errors;	/* one per line */
} st = { .lock = PTHREAD_MUTEX_INITIALIZER, .reload_ok = -1 };

void
status_started(const char *config)
{
	pthread_mutex_lock(&st.lock);
	free(st.config);
	st.config = strdup(config);
	st.started = st.loaded = time(NULL);
	pthread_mutex_unlock(&st.lock);
}

void
status_reloaded(int ok, const struct config_errors *errs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	for (size_t i = 0; fp != NULL && errs != NULL && i < errs->n; i++)
		fprintf(fp, "%s\n", errs->msg[i]);
	if (fp != NULL)
		fclose(fp);
	metrics_count("authfilter_reloads_total", 1, "result",
	    ok ? "ok" : "failed", NULL);
	pthread_mutex_lock(&st.lock);
	st.reload_at = time(NULL);
	st.reload_ok = ok;
	if (ok)
		st.loaded = st.reload_at;
	free(st.reload_errors);
	st.reload_errors = text;
	pthread_mutex_unlock(&st.lock);
}

static void
iso(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The key's age: since it was activated (or made, when never). */
static time_t
key_since(const struct key *k)
{
	return k->activated != 0 ? k->activated : k->created;
}

void
status_gauges(FILE *fp)
{
	struct af_state *cur = state_acquire();
	char labels[600];
	time_t now = time(NULL), started, loaded;
	int reload_ok;

	pthread_mutex_lock(&st.lock);
	started = st.started;
	loaded = st.loaded;
	reload_ok = st.reload_ok;
	pthread_mutex_unlock(&st.lock);
	labels[0] = '\0';
	metrics_label(labels, sizeof(labels), "version", PACKAGE_VERSION);
	metrics_gauge(fp, "authfilter_build_info", "Always 1; the version as "
	    "a label.", labels, 1);
	metrics_gauge(fp, "authfilter_start_time_seconds", "When the daemon "
	    "started (Unix time).", NULL, (double)started);
	metrics_gauge(fp, "authfilter_sessions_open", "Milter connections "
	    "open now.", NULL, (double)server_sessions());
	metrics_gauge(fp, "authfilter_messages_in_progress", "Messages "
	    "between MAIL FROM and their end now.", NULL,
	    (double)message_in_progress());
	metrics_gauge(fp, "authfilter_signer_up", "1 while the signer process "
	    "holding the private keys runs.", NULL, keyproc_pid() != 0 &&
	    kill(keyproc_pid(), 0) == 0);
	outbound_gauges_write(fp);
	if (cur == NULL)
		return;
	metrics_gauge(fp, "authfilter_config_generation", "The configuration "
	    "serving: 1 at start, one more per reload taken.", NULL,
	    (double)cur->generation);
	metrics_gauge(fp, "authfilter_config_loaded_time_seconds", "When the "
	    "configuration serving was loaded (Unix time).", NULL,
	    (double)loaded);
	metrics_gauge(fp, "authfilter_config_last_reload_successful", "0 when "
	    "the last SIGHUP reload failed (the previous configuration "
	    "serves), else 1.", NULL, reload_ok != 0);
	for (size_t i = 0; cur->keys != NULL && i < cur->keys->n; i++) {
		const struct key *k = &cur->keys->keys[i];

		labels[0] = '\0';
		metrics_label(labels, sizeof(labels), "domain", k->domain);
		metrics_label(labels, sizeof(labels), "selector", k->selector);
		metrics_label(labels, sizeof(labels), "algorithm",
		    key_alg_name(k->alg));
		metrics_label(labels, sizeof(labels), "state",
		    key_state_name(k->state));
		metrics_gauge(fp, "authfilter_key_age_seconds", i == 0 ?
		    "Age of each key in the store, since it was activated (or "
		    "made); authfilter-keys rotate makes a new one at 180 days "
		    "by default." : NULL, labels,
		    (double)(now - key_since(k)));
	}
	state_release(cur);
}

static void
add_counter(void *arg, const char *name, const char *labels, double v)
{
	char key[700];

	snprintf(key, sizeof(key), "%s%s%s%s", name, *labels ? "{" : "",
	    labels, *labels ? "}" : "");
	json_object_object_add(arg, key, json_object_new_double(v));
}

static json_object *
keys_json(const struct keystore *ks, time_t now)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; ks != NULL && i < ks->n; i++) {
		const struct key *k = &ks->keys[i];
		json_object *o = json_object_new_object();
		char t[32];

		json_object_object_add(o, "domain",
		    json_object_new_string(k->domain));
		json_object_object_add(o, "selector",
		    json_object_new_string(k->selector));
		json_object_object_add(o, "algorithm",
		    json_object_new_string(key_alg_name(k->alg)));
		json_object_object_add(o, "bits", json_object_new_int(
		    (int)k->bits));
		json_object_object_add(o, "state",
		    json_object_new_string(key_state_name(k->state)));
		iso(key_since(k), t, sizeof(t));
		json_object_object_add(o, "since", json_object_new_string(t));
		json_object_object_add(o, "age_days", json_object_new_int64(
		    (int64_t)(now - key_since(k)) / 86400));
		json_object_array_add(a, o);
	}
	return a;
}

char *
status_json(void)
{
	struct af_state *cur = state_acquire();
	json_object *o = json_object_new_object(), *r, *c;
	time_t now = time(NULL);
	char t[32], *out;

	json_object_object_add(o, "version",
	    json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "signer_pid",
	    json_object_new_int(keyproc_pid()));
	pthread_mutex_lock(&st.lock);
	iso(st.started, t, sizeof(t));
	json_object_object_add(o, "started_at", json_object_new_string(t));
	json_object_object_add(o, "uptime_seconds",
	    json_object_new_int64((int64_t)(now - st.started)));
	json_object_object_add(o, "config_file",
	    json_object_new_string(st.config != NULL ? st.config : ""));
	iso(st.loaded, t, sizeof(t));
	json_object_object_add(o, "config_loaded_at",
	    json_object_new_string(t));
	if (st.reload_ok >= 0) {
		r = json_object_new_object();
		iso(st.reload_at, t, sizeof(t));
		json_object_object_add(r, "at", json_object_new_string(t));
		json_object_object_add(r, "result", json_object_new_string(
		    st.reload_ok ? "ok" : "failed"));
		json_object_object_add(r, "errors", json_object_new_string(
		    st.reload_errors != NULL ? st.reload_errors : ""));
		json_object_object_add(o, "last_reload", r);
	}
	pthread_mutex_unlock(&st.lock);
	json_object_object_add(o, "config_generation", json_object_new_int64(
	    cur != NULL ? (int64_t)cur->generation : 0));
	json_object_object_add(o, "sessions_open",
	    json_object_new_int64((int64_t)server_sessions()));
	json_object_object_add(o, "messages_in_progress",
	    json_object_new_int64((int64_t)message_in_progress()));
	json_object_object_add(o, "keys", keys_json(cur != NULL ? cur->keys :
	    NULL, now));
	c = json_object_new_object();
	metrics_each(add_counter, c);
	json_object_object_add(o, "counters", c);
	if (cur != NULL)
		state_release(cur);
	out = strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}
