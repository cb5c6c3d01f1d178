package dev.zksdk.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs independent test cases at once, each on a thread of its own, to save wall time where each case waits on its
 * own faults (its own servers, proxies and pools: no case's fault may touch another's). Fails naming every case that
 * failed, with its failure attached.
 */
public final class CasesAtOnce {

    private CasesAtOnce() {}

    /** A case that may throw. */
    @FunctionalInterface
    public interface Case {
        /**
         * Runs the case.
         *
         * @throws Exception when the case fails
         */
        void run() throws Exception;
    }

    /**
     * Runs the named cases at once and waits for all of them.
     *
     * @param cases the cases by name, in the order their threads start
     * @throws AssertionError naming each case that failed (its failure suppressed in it)
     * @throws InterruptedException when interrupted while waiting for the cases
     */
    public static void run(Map<String, ? extends Case> cases) throws InterruptedException {
        Map<String, Throwable> failed = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        cases.forEach((name, c) -> {
            Thread t = new Thread(
                    () -> {
                        try {
                            c.run();
                        } catch (Throwable e) {
                            failed.put(name, e);
                        }
                    },
                    "case-" + name);
            t.start();
            threads.add(t);
        });
        for (Thread t : threads) {
            t.join();
        }
        if (!failed.isEmpty()) {
            AssertionError error = new AssertionError(failed.size() + " of " + cases.size() + " cases failed:\n"
                    + String.join(
                            "\n",
                            failed.entrySet().stream()
                                    .map(e -> e.getKey() + ": " + e.getValue())
                                    .toList()));
            failed.values().forEach(error::addSuppressed);
            throw error;
        }
    }
}
