/**
 * Runnable programs: the demo (the README's main command: an embedded ensemble, faults while handlers run, checks),
 * the {@code doctor} command, and the entry point that picks between them.
 */
package dev.zksdk.samples;
