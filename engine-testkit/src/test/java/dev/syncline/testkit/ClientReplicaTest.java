package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The test clients' replica reconnects as an SDK does. */
class ClientReplicaTest {
  /**
   * A stream cut off in the middle of a checkpoint's data leaves each bucket at the last op it
   * received: that, not the checkpoint's op id, is where a reconnecting client continues (else the
   * rest of the data is skipped and the next checksum cannot match).
   */
  @Test
  void a_bucket_continues_after_the_last_op_it_received_not_after_the_checkpoint() {
    ClientReplica replica = new ClientReplica();
    replica.accept(
        "{\"checkpoint\":{\"last_op_id\":\"9\",\"buckets\":[{\"bucket\":\"a\",\"checksum\":0,"
            + "\"priority\":3},{\"bucket\":\"b\",\"checksum\":0,\"priority\":3}]}}");
    replica.accept(
        "{\"data\":{\"bucket\":\"a\",\"after\":\"0\",\"has_more\":true,\"data\":[{\"op_id\":\"3\","
            + "\"op\":\"PUT\",\"object_type\":\"t\",\"object_id\":\"1\",\"checksum\":5,\"data\":\"{}\"}],"
            + "\"next_after\":\"3\"}}");
    assertThat(replica.positions()).containsExactly(Map.entry("a", "3"), Map.entry("b", "0"));
  }
}
