package dev.zksdk.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ServerCountersTest {

    private static final List<String> NETSTAT = List.of(
            "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPHPHits",
            "TcpExt: 0 0 17 19 147052",
            "IpExt: InNoRoutes InTruncatedPkts",
            "IpExt: 0 0");

    @Test
    void readsListenCountersFromTheTcpExtLines() {
        assertThat(ServerCounters.parseTcpExt(NETSTAT, "ListenOverflows")).isEqualTo(OptionalLong.of(17));
        assertThat(ServerCounters.parseTcpExt(NETSTAT, "ListenDrops")).isEqualTo(OptionalLong.of(19));
    }

    @Test
    void anAbsentCounterIsEmptyNotZero() {
        assertThat(ServerCounters.parseTcpExt(NETSTAT, "NoSuchCounter")).isEmpty();
        assertThat(ServerCounters.parseTcpExt(List.of("IpExt: InNoRoutes", "IpExt: 0"), "ListenOverflows"))
                .isEmpty();
    }
}
