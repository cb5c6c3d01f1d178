package dev.zksdk.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessEnsembleBuilderTest {

    @Test
    void adminServerWithoutJettyFailsNamingJetty() {
        assertThatThrownBy(() -> ProcessEnsemble.builder().adminServer(true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Jetty")
                .hasMessageContaining("org.eclipse.jetty.server.Server");
    }

    @Test
    void badSettingsAreRejectedNamingSettingAndValue() {
        ProcessEnsemble.Builder builder = ProcessEnsemble.builder();
        assertThatThrownBy(() -> builder.size(0)).hasMessageContaining("size").hasMessageContaining("0");
        assertThatThrownBy(() -> builder.tickTime(Duration.ofNanos(1500)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tickTime");
        assertThatThrownBy(() -> builder.maxClientCnxns(-1))
                .hasMessageContaining("maxClientCnxns")
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> builder.fourLetterWordWhitelist("status"))
                .hasMessageContaining("fourLetterWordWhitelist")
                .hasMessageContaining("status");
        assertThatThrownBy(() -> builder.serverListOverride(2, List.of(1, 3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[1, 3]");
        assertThatThrownBy(() -> builder.extraConfig("noEquals")).hasMessageContaining("noEquals");
        assertThatThrownBy(() -> builder.jvmOption("Xmx1g")).hasMessageContaining("Xmx1g");
        assertThatThrownBy(() -> builder.proxiedQuorumLink(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("proxiedQuorumLink id")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> builder.secureClientPort(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("secureClientPort")
                .hasMessageContaining("null");
    }

    @Test
    void observersAreCheckedBeforeAnythingStarts() {
        assertThatThrownBy(() -> ProcessEnsemble.builder().observers())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers ids must not be empty");
        assertThatThrownBy(() -> ProcessEnsemble.builder().observers(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers id must be a member id 1-9, was 0");
        assertThatThrownBy(() -> ProcessEnsemble.builder().size(3).observers(4).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers id must be a member id 1-3, was 4");
        assertThatThrownBy(
                        () -> ProcessEnsemble.builder().size(2).observers(1, 2).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers must leave at least one participant, were [1, 2] of 2 members");
    }

    @Test
    void otherServerVersionsAreCheckedBeforeAnythingStarts() {
        assertThatThrownBy(() -> ProcessEnsemble.builder().serverVersion("3.4"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("serverVersion")
                .hasMessageContaining("'3.4'");
        assertThatThrownBy(() -> ProcessEnsemble.builder().serverVersion("../3.4.14"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("../3.4.14");
        assertThatThrownBy(() -> ProcessEnsemble.builder().serverVersion("3.3.6"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3.4 or later");
        assertThatThrownBy(() -> ProcessEnsemble.builder()
                        .serverVersion("3.4.14")
                        .reconfigEnabled(true)
                        .start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reconfigEnabled")
                .hasMessageContaining("3.4.14");
        assertThatThrownBy(() -> ProcessEnsemble.builder()
                        .serverVersion("3.5.10")
                        .clientPortListenBacklog(10)
                        .start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("clientPortListenBacklog")
                .hasMessageContaining("3.5.10");
        // A version whose jars the build does not copy: the message names the version and where it looked.
        assertThatThrownBy(() ->
                        ProcessEnsemble.builder().size(1).serverVersion("3.4.1").start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ZooKeeper 3.4.1 ")
                .hasMessageContaining(
                        ProcessEnsemble.serverJarsRoot().resolve("3.4.1").toString());
    }

    @Test
    void theOwnVersionRunsOnTheTestClassPath() {
        String own = ProcessEnsemble.ownServerVersion();
        assertThat(own).matches("\\d+\\.\\d+\\.\\d+");
        // Both the full and the major.minor own version mean the test class path (any other major.minor is refused).
        ProcessEnsemble.builder().serverVersion(own).serverVersion(own.substring(0, own.lastIndexOf('.')));
    }

    @Test
    void contradictorySettingsAreRejectedBeforeAnythingStarts() {
        assertThatThrownBy(() -> ProcessEnsemble.builder()
                        .minSessionTimeout(Duration.ofSeconds(10))
                        .maxSessionTimeout(Duration.ofSeconds(5))
                        .start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minSessionTimeout");
        assertThatThrownBy(() -> ProcessEnsemble.builder()
                        .size(3)
                        .serverListOverride(5, List.of(1, 5))
                        .start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("serverListOverride id")
                .hasMessageContaining("5");
        assertThatThrownBy(() ->
                        ProcessEnsemble.builder().size(3).proxiedQuorumLink(4).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("proxiedQuorumLink id")
                .hasMessageContaining("4");
        assertThatThrownBy(() ->
                        ProcessEnsemble.builder().size(1).proxiedQuorumLink(1).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least two members");
        assertThatThrownBy(() -> ProcessEnsemble.builder()
                        .size(3)
                        .proxiedQuorumLink(1)
                        .awaitQuorumOnStart(false)
                        .start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("awaitQuorumOnStart");
    }
}
