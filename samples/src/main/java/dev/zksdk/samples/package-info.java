/**
 * Runnable programs: the demo (the README's main command: an embedded ensemble, faults while handlers run, checks),
 * the chaos {@code soak} (random overlapping faults, every write's outcome and every registration, watch, lock and
 * leader checked against the server), and the entry point that picks between them. The doctor is in sdk-cli.
 */
package dev.zksdk.samples;
