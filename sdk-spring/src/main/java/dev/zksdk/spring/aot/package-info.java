/** GraalVM native-image hints for Spring's AOT processing; see {@link dev.zksdk.spring.aot.ZkSdkRuntimeHints}. */
package dev.zksdk.spring.aot;
