package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The observer settings of {@link EnsembleConfig}: bad values fail at once, naming the setting and the value. */
class EnsembleConfigObserversTest {

    static final String SERVERS = "zk1:2181,zk2:2181,zk3:2181,obs1:2181";

    @Test
    void observersSplitTheConnectStringIntoParticipantsAndObservers() {
        EnsembleConfig config = EnsembleConfig.builder()
                .connectString(SERVERS + "/app")
                .observers("OBS1:2181")
                .readsFromObservers(2)
                .build();
        assertThat(config.observers()).containsExactly("OBS1:2181");
        assertThat(config.participants()).containsExactly("zk1:2181", "zk2:2181", "zk3:2181");
        assertThat(config.isObserver("obs1:2181")).isTrue();
        assertThat(config.readsFromObservers()).isEqualTo(2);
        assertThat(config.toString()).contains("observers=[OBS1:2181]", "readsFromObservers=2");
        assertThat(config.toBuilder().build()).isEqualTo(config);
        assertThat(config.toBuilder().readsFromObservers(1).build()).isNotEqualTo(config);
    }

    @Test
    void withoutObserversEveryServerIsAParticipant() {
        EnsembleConfig config = EnsembleConfig.of(SERVERS);
        assertThat(config.observers()).isEmpty();
        assertThat(config.readsFromObservers()).isZero();
        assertThat(config.participants()).isEqualTo(config.servers());
    }

    @Test
    void readsFromObserversWithoutObserversIsRefused() {
        assertThatThrownBy(() -> EnsembleConfig.builder()
                        .connectString(SERVERS)
                        .readsFromObservers(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("readsFromObservers 1")
                .hasMessageContaining("observers(...)");
    }

    @Test
    void anObserverMissingFromTheConnectStringIsRefused() {
        assertThatThrownBy(() -> EnsembleConfig.builder()
                        .connectString(SERVERS)
                        .observers("obs2:2181")
                        .readsFromObservers(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers names obs2:2181")
                .hasMessageContaining("not in the connectString");
    }

    @Test
    void observersThatLeaveNoParticipantAreRefused() {
        assertThatThrownBy(() -> EnsembleConfig.builder()
                        .connectString("obs1:2181,obs2:2181")
                        .observers("obs1:2181", "obs2:2181", "obs1:2181")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leave no participant");
    }

    @Test
    void badValuesAreRefusedAtOnceNamingTheSetting() {
        EnsembleConfig.Builder b = EnsembleConfig.builder();
        assertThatThrownBy(() -> b.readsFromObservers(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("readsFromObservers must be 0 or more, was -1");
        assertThatThrownBy(() -> b.observers("obs1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers[0] is missing the port");
        assertThatThrownBy(() -> b.observers("a:1,b:2"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers[0] must be one host:port");
        assertThatThrownBy(() -> b.observers("a:1", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers[1]");
        assertThatThrownBy(() -> b.observers((String[]) null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("observers");
    }

    @Test
    void thePoolBuilderDelegatesTheObserverSettings() {
        assertThatThrownBy(() -> ZkSessionPool.builder()
                        .connectString(SERVERS)
                        .readsFromObservers(1)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("readsFromObservers 1");
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .connectString(SERVERS)
                .observers("obs1:2181")
                .readsFromObservers(1)
                .build()) {
            assertThat(pool).isNotNull();
        }
        assertThat(List.of(EnsembleConfig.builder()
                        .connectString(SERVERS)
                        .observers()
                        .build()
                        .observers()))
                .containsExactly(List.of());
    }
}
