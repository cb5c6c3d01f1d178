package dev.zksdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zksdk.hosts.HostsConfig;
import org.junit.jupiter.api.Test;

/**
 * {@link ZkSessionPool#updateConnectString} validation, on a pool that has opened nothing: a bad value fails naming
 * the setting and the value, and changes nothing. (What a valid change does to live sessions: ConnectStringUpdateIT.)
 */
class ConnectStringUpdateTest {

    private static final String ORIGINAL = "127.0.0.1:2181,127.0.0.1:2182/app";

    @Test
    void aValidChangeOfTheDefaultEnsembleIsTheListInUseAndNormalized() {
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString(ORIGINAL).build()) {
            assertThat(pool.currentConnectString()).isEqualTo(ORIGINAL);
            pool.updateConnectString(" 127.0.0.1:2183 , 127.0.0.1:2184/app ");
            assertThat(pool.currentConnectString()).isEqualTo("127.0.0.1:2183,127.0.0.1:2184/app");
            assertThat(pool.currentConnectString(pool.defaultEnsemble()))
                    .isEqualTo("127.0.0.1:2183,127.0.0.1:2184/app");
            // The ensemble keeps its identity: it is still keyed, and reported, by the config it was built with.
            assertThat(pool.defaultEnsemble().connectString()).isEqualTo(ORIGINAL);
            assertThat(pool.ensembles()).isEmpty();
        }
    }

    @Test
    void malformedStringsNameTheSettingAndTheValueAndChangeNothing() {
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString(ORIGINAL).build()) {
            for (String bad : new String[] {
                "127.0.0.1:2181,127.0.0.1:notaport/app",
                "127.0.0.1/app",
                "",
                "127.0.0.1:2181,,127.0.0.1:2182/app",
                "127.0.0.1:70000/app",
                "127.0.0.1:2181/bad//chroot"
            }) {
                assertThatThrownBy(() -> pool.updateConnectString(bad))
                        .as("'%s'", bad)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("connectString")
                        .hasMessageContaining("'" + bad + "'");
                assertThat(pool.currentConnectString()).isEqualTo(ORIGINAL);
            }
            assertThatThrownBy(() -> pool.updateConnectString(null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("connectString must not be null");
            assertThat(pool.currentConnectString()).isEqualTo(ORIGINAL);
        }
    }

    @Test
    void anotherChrootIsRefusedNamingBoth() {
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString(ORIGINAL).build()) {
            assertThatThrownBy(() -> pool.updateConnectString("127.0.0.1:2183/other"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("connectString '127.0.0.1:2183/other'")
                    .hasMessageContaining("'/other'")
                    .hasMessageContaining("'/app'");
            assertThatThrownBy(() -> pool.updateConnectString("127.0.0.1:2183"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("connectString '127.0.0.1:2183'")
                    .hasMessageContaining("chroot none")
                    .hasMessageContaining("'/app'");
            assertThat(pool.currentConnectString()).isEqualTo(ORIGINAL);
        }
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString("127.0.0.1:2181").build()) {
            assertThatThrownBy(() -> pool.updateConnectString("127.0.0.1:2183/app"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'/app'")
                    .hasMessageContaining("ensemble's is none");
            // "/" is the root, as the builder treats it: no chroot, so it is the same.
            pool.updateConnectString("127.0.0.1:2183/");
            assertThat(pool.currentConnectString()).isEqualTo("127.0.0.1:2183");
        }
    }

    @Test
    void aListWhoseServersAllHaveWeightZeroIsRefused() {
        HostsConfig hosts = HostsConfig.builder()
                .weight("127.0.0.1:2183", 0)
                .weight("127.0.0.1:2184", 0)
                .build();
        try (ZkSessionPool pool = ZkSessionPool.builder()
                .connectString("127.0.0.1:2181")
                .hosts(hosts)
                .build()) {
            assertThatThrownBy(() -> pool.updateConnectString("127.0.0.1:2183,127.0.0.1:2184"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("connectString '127.0.0.1:2183,127.0.0.1:2184'")
                    .hasMessageContaining("weight 0");
            assertThat(pool.currentConnectString()).isEqualTo("127.0.0.1:2181");
            // One server of positive (here: default) weight is enough.
            pool.updateConnectString("127.0.0.1:2183,127.0.0.1:2185");
            assertThat(pool.currentConnectString()).isEqualTo("127.0.0.1:2183,127.0.0.1:2185");
        }
    }

    @Test
    void anEnsembleThePoolNeverLeasedIsRefusedNamingIt() {
        try (ZkSessionPool pool =
                ZkSessionPool.builder().connectString(ORIGINAL).build()) {
            EnsembleConfig other = EnsembleConfig.builder()
                    .connectString("127.0.0.1:3181")
                    .digest("u", "secret")
                    .build();
            assertThatThrownBy(() -> pool.updateConnectString(other, "127.0.0.1:3182"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("127.0.0.1:3181")
                    .hasMessageContaining("neither the pool's default ensemble nor one it has leased")
                    .hasMessageNotContaining("secret");
            assertThatThrownBy(() -> pool.currentConnectString(other)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> pool.updateConnectString(null, "127.0.0.1:3182"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("ensemble must not be null");
            // An equal config is the same ensemble.
            pool.updateConnectString(EnsembleConfig.of(ORIGINAL), "127.0.0.1:2183/app");
            assertThat(pool.currentConnectString()).isEqualTo("127.0.0.1:2183/app");
        }
    }

    @Test
    void aClosedPoolRefusesAChange() {
        ZkSessionPool pool = ZkSessionPool.builder().connectString(ORIGINAL).build();
        pool.close();
        assertThatThrownBy(() -> pool.updateConnectString("127.0.0.1:2183/app"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(pool.currentConnectString()).isEqualTo(ORIGINAL);
    }
}
