package dev.zksdk.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zksdk.ZkLease;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is an optional dependency: a cache must load and run without it. A class whose constant pool names no
 * {@code io/micrometer} type cannot need Micrometer to load, so every class a cache uses is checked for that name,
 * and {@link CacheMetrics}, the one class allowed to use it, is checked to be the only one that does.
 */
class MicrometerIsOptionalTest {

    @Test
    void onlyCacheMetricsRefersToMicrometer() throws Exception {
        Path cacheClasses = classFile(CacheMetrics.class).getParent();
        List<String> referring = new ArrayList<>();
        try (Stream<Path> files = Files.list(cacheClasses)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                if (refersToMicrometer(f)) {
                    referring.add(f.getFileName().toString());
                }
            }
        }
        assertThat(referring)
                .allMatch(name -> name.equals("CacheMetrics.class") || name.startsWith("CacheMetrics$"))
                .contains("CacheMetrics.class");
        // The caches' engine, too, never names Micrometer.
        try (Stream<Path> files = Files.list(classFile(Class.forName("dev.zksdk.internal.cache.WatchedCache"))
                .getParent())) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                assertThat(refersToMicrometer(f)).as(f.getFileName().toString()).isFalse();
            }
        }
        for (Class<?> c : List.of(ZkLease.class, Class.forName("dev.zksdk.internal.pool.RealLease"))) {
            assertThat(refersToMicrometer(classFile(c))).as(c.getName()).isFalse();
        }
    }

    /**
     * Operations are observed through the metrics SPI ({@code MetricsTracker.operationStarted} and
     * {@code OperationObservation}): the pipeline that starts and stops them, the pool, and the SPI itself never name a
     * Micrometer type; only the {@code .micrometer} binding does.
     */
    @Test
    void operationsAreObservedWithoutNamingMicrometerOutsideTheBinding() throws Exception {
        for (String pkg : List.of(
                "dev.zksdk.internal.pipeline.OperationRunner",
                "dev.zksdk.internal.pool.Ensemble",
                "dev.zksdk.metrics.MetricsTracker")) {
            try (Stream<Path> files = Files.list(classFile(Class.forName(pkg)).getParent())) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                    assertThat(refersToMicrometer(f))
                            .as(f.getFileName().toString())
                            .isFalse();
                }
            }
        }
        assertThat(refersToMicrometer(classFile(dev.zksdk.EnsembleConfig.class)))
                .isFalse();
        assertThat(refersToMicrometer(classFile(dev.zksdk.ZkSessionPool.class))).isFalse();
    }

    private static Path classFile(Class<?> c) throws URISyntaxException {
        return Path.of(c.getResource(c.getSimpleName() + ".class").toURI());
    }

    private static boolean refersToMicrometer(Path classFile) throws IOException {
        try (InputStream in = Files.newInputStream(classFile)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1).contains("io/micrometer");
        }
    }
}
