/** Turns JMH results into the report: tables, intervals, goals met or not, and the chart. */
package dev.zksdk.benchmarks.report;
