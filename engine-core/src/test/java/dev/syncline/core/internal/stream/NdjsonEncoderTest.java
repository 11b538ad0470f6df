package dev.syncline.core.internal.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.stream.SyncLine;
import dev.syncline.spi.storage.OpChecksums;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lines are byte-identical to a stream recorded from the real PowerSync service. */
class NdjsonEncoderTest {
  static List<String> recorded() throws IOException {
    String dir =
        System.getProperty("syncline.conformance.dir", "../../shared/conformance/sync-rules");
    return Files.readAllLines(
        Path.of(dir).resolve("../../spec/samples/real-service-1.25.0-user-2.ndjson"));
  }

  @Test
  void checkpoint_data_and_complete_lines_match_the_recording() throws IOException {
    List<String> lines = recorded();
    String bucket = "1#user_lists[\"user-2\"]";
    SyncLine checkpoint =
        new SyncLine.Checkpoint(
            new OpId(170026),
            null,
            List.of(
                new SyncLine.BucketState(
                    bucket, 1202440571, 2, 3, List.of(new SyncLine.Subscription(true, 0)))),
            List.of(new SyncLine.StreamDescription("user_lists", true)));
    assertThat(NdjsonEncoder.encode(checkpoint)).isEqualTo(lines.get(0) + "\n");

    SyncLine data =
        new SyncLine.Data(
            bucket,
            OpId.ZERO,
            new OpId(5),
            false,
            List.of(
                new SyncLine.Op(
                    new OpId(2),
                    OpType.PUT,
                    "lists",
                    "22222222-2222-2222-2222-222222222222",
                    "2aa2b006-c42b-46d8-88ed-954e6a4b0765/713582fc-2bc7-53da-b8b4-0b48e24cbfc8",
                    "{\"id\":\"22222222-2222-2222-2222-222222222222\",\"created_at\":\"2026-11-24 16:46:48.25255Z\","
                        + "\"name\":\"Other user list\",\"owner_id\":\"user-2\"}",
                    3640386756L),
                new SyncLine.Op(
                    new OpId(5),
                    OpType.PUT,
                    "todos",
                    "8b2f4998-2590-4a6b-93b8-4def2e7c3551",
                    "eb9d49d8-f6d6-4170-aea1-c92c1412931a/28d6a47f-50e6-502d-9d84-ebb4544dac1d",
                    "{\"id\":\"8b2f4998-2590-4a6b-93b8-4def2e7c3551\",\"created_at\":\"2026-11-24 16:46:48.25255Z\","
                        + "\"completed_at\":null,\"description\":\"secret\",\"completed\":0,\"created_by\":\"user-2\","
                        + "\"completed_by\":null,\"list_id\":\"22222222-2222-2222-2222-222222222222\","
                        + "\"owner_id\":\"user-2\"}",
                    1857021111L)));
    assertThat(NdjsonEncoder.encode(data)).isEqualTo(lines.get(1) + "\n");
    assertThat(NdjsonEncoder.encode(new SyncLine.CheckpointComplete(new OpId(170026))))
        .isEqualTo(lines.get(2) + "\n");
  }

  @Test
  void the_recorded_op_checksums_are_the_protocol_checksums() throws IOException {
    // PUT checksums hash type, id and data: recompute them from the recorded line.
    String line = recorded().get(1);
    assertThat(line)
        .contains(
            "\"checksum\":"
                + OpChecksums.put(
                    "lists",
                    "22222222-2222-2222-2222-222222222222",
                    "{\"id\":\"22222222-2222-2222-2222-222222222222\",\"created_at\":"
                        + "\"2026-11-24 16:46:48.25255Z\",\"name\":\"Other user list\",\"owner_id\":\"user-2\"}"));
  }

  @Test
  void diffs_partials_and_keepalives_use_the_protocol_names() {
    assertThat(
            NdjsonEncoder.encode(
                new SyncLine.CheckpointDiff(new OpId(4), "6", List.of(), List.of("1#old[]"))))
        .isEqualTo(
            "{\"checkpoint_diff\":{\"last_op_id\":\"4\",\"write_checkpoint\":\"6\",\"updated_buckets\":[],"
                + "\"removed_buckets\":[\"1#old[]\"]}}\n");
    assertThat(NdjsonEncoder.encode(new SyncLine.PartialCheckpointComplete(new OpId(2), 1)))
        .isEqualTo("{\"partial_checkpoint_complete\":{\"last_op_id\":\"2\",\"priority\":1}}\n");
    assertThat(NdjsonEncoder.encode(new SyncLine.TokenExpiresIn(57)))
        .isEqualTo("{\"token_expires_in\":57}\n");
    assertThat(
            NdjsonEncoder.encode(
                new SyncLine.Data(
                    "b",
                    new OpId(1),
                    new OpId(3),
                    true,
                    List.of(
                        new SyncLine.Op(new OpId(2), OpType.MOVE, null, null, null, null, 7),
                        new SyncLine.Op(new OpId(3), OpType.CLEAR, null, null, null, null, 9)))))
        .isEqualTo(
            "{\"data\":{\"bucket\":\"b\",\"after\":\"1\",\"has_more\":true,\"data\":["
                + "{\"op_id\":\"2\",\"op\":\"MOVE\",\"checksum\":7},{\"op_id\":\"3\",\"op\":\"CLEAR\",\"checksum\":9}],"
                + "\"next_after\":\"3\"}}\n");
  }
}
