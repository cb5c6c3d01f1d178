/**
 * The {@code zk-sdk} command line: {@link dev.zksdk.cli.ZkSdkCli} and its {@code doctor} command, built with picocli.
 * Run as {@code java -jar zk-sdk-cli.jar --help}.
 */
package dev.zksdk.cli;
