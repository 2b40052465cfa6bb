/* simrun.h — drives a scenario on the simulated cluster through the real
 * pipeline (runner + journal + engine), in virtual time.
 *
 * Loop, per scenario step: apply the user operation; then until the step's
 * condition holds: drain the sim's watch into the runner, flush (commit,
 * then act), push a tick if a reducer asked for one, and advance virtual
 * time to the next thing due (sim timer, queued action or reducer wakeup).
 * A step that cannot finish within its virtual deadline is an error that
 * says what was awaited and what was seen.
 */
#ifndef LB_SIMRUN_H
#define LB_SIMRUN_H

#include <stdint.h>
#include <stdio.h>

#include "runner.h"
#include "sim.h"

/* The watch cursor and progress of one driver. */
struct lb_simrun {
  struct lb_sim *sim;    /* borrowed */
  struct lb_runner *run; /* borrowed */
  char rv[32];           /* watch cursor */
  FILE *progress;        /* progress lines, or NULL */
  int64_t t0;            /* virtual start, for "+12.3s" */
  int64_t deadline_ms;   /* per step (600000) */
  int step;              /* steps completed */
  int64_t last_tick;     /* virtual time of the last tick pushed */
};

void lb_simrun_init(struct lb_simrun *d, struct lb_sim *sim,
                    struct lb_runner *run);
/* Start-up after lb_runner_recover: relist (only differences become
 * events, then one LIST_END per modelled kind), re-send in-flight actions
 * whose outcome never reached the journal, flush. */
int lb_simrun_resync(struct lb_simrun *d);
/* Runs scenario `name` from step `from` (0 = start). On error *msg (static
 * or malloc'd into msgbuf) says what happened. */
int lb_simrun_scenario(struct lb_simrun *d, const char *name, int from,
                       char *msgbuf, size_t msglen);
/* Names of the built-in scenarios, NULL-terminated. */
extern const char *const lb_sim_scenarios[];
/* Number of steps of a scenario, or -1 when unknown. */
int lb_simrun_steps(const char *name);

#endif
