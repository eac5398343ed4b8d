// Package faults holds the gateway's fault suite (its tests only): the
// built gateway binary against a private PostgreSQL cluster that the tests
// create, restart and stop (never the shared DATABASE_URL server), to show
// that an outage, a SIGTERM, a lost replica, slow clients and overload
// lose nothing acknowledged and answer everything else with a status that
// says to retry.
package faults
