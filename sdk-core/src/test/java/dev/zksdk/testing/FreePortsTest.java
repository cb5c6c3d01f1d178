package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void takenPortsLieBelowTheEphemeralRangeAndAreNotHandedOutTwiceInARow() throws Exception {
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        int ephemeralLow = Files.isReadable(range)
                ? Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0])
                : Integer.MAX_VALUE;
        if (Files.isReadable(range)) {
            assertThat(FreePorts.ephemeralLow()).isEqualTo(ephemeralLow);
        }
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            int port = FreePorts.take();
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
            if (ephemeralLow - FreePorts.LOWEST >= 1_000) {
                assertThat(port).isBetween(FreePorts.LOWEST, ephemeralLow - 1);
            }
        }
    }

    @Test
    void aTakenPortCanBeBoundOnEveryAddress() throws Exception {
        int port = FreePorts.take();
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(port));
            assertThat(server.getLocalPort()).isEqualTo(port);
        }
    }
}
