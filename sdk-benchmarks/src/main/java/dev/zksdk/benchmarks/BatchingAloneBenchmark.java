package dev.zksdk.benchmarks;

/**
 * {@link BatchingBenchmark}'s methods under a name of their own, for the paired rounds of batched against unbatched
 * async creates at 1 in flight (the profiles fix {@code inFlight} to 1 and run {@code sdkCreateAsync} and
 * {@code sdkCreateAsyncBatched}, one fork of each per round, back to back on one server). There both take the same
 * path (an operation goes alone when nothing is in flight), so their ratio is close to 1 and only rounds run back to
 * back narrow its interval enough to judge "no worse than unbatched"; the report reads them apart from the batching
 * table's results.
 */
public class BatchingAloneBenchmark extends BatchingBenchmark {}
