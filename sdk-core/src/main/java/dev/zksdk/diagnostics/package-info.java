/**
 * Diagnostics for ZooKeeper ensembles: {@link dev.zksdk.diagnostics.EnsembleDoctor} probes every member with
 * four-letter words (or the AdminServer) and returns a {@link dev.zksdk.diagnostics.DiagnosticsReport} whose
 * {@link dev.zksdk.diagnostics.Finding}s name production problems, with the evidence and a remedy.
 */
package dev.zksdk.diagnostics;
