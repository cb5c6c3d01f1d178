package dev.zksdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SrvrVersionTest {

    @Test
    void versionIsReadFromSrvrsAnswer() {
        assertThat(SrvrVersion.of(
                        "Zookeeper version: 3.5.10-c4f8cbb1, built on 05/21/2022 06:51 GMT\nLatency min/avg/max:"))
                .isEqualTo("3.5.10");
        assertThat(SrvrVersion.of("srvr is not executed because it is not in the whitelist."))
                .isNull();
    }

    @Test
    void aRefusalIsToldFromAServerNotServingYet() {
        assertThat(SrvrVersion.refused("srvr is not executed because it is not in the whitelist."))
                .isTrue();
        assertThat(SrvrVersion.refused("This ZooKeeper instance is not currently serving requests\n"))
                .isFalse();
        assertThat(SrvrVersion.of("This ZooKeeper instance is not currently serving requests\n"))
                .isNull();
    }

    @Test
    void before36IsPersistentWatchesMissing() {
        assertThat(SrvrVersion.before36("3.4.14")).isTrue();
        assertThat(SrvrVersion.before36("3.5.10")).isTrue();
        assertThat(SrvrVersion.before36("3.6.0")).isFalse();
        assertThat(SrvrVersion.before36("3.8.4")).isFalse();
        assertThat(SrvrVersion.before36("3.10.1")).isFalse();
        assertThat(SrvrVersion.before36("4")).isFalse();
    }
}
