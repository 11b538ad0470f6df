package dev.syncline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.OpId;
import dev.syncline.api.OpType;
import dev.syncline.api.stream.SyncLine;
import dev.syncline.core.internal.stream.BsonEncoder;
import dev.syncline.core.internal.stream.NdjsonEncoder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** BSON lines carry exactly what the NDJSON lines carry. */
class BsonEncoderTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static List<SyncLine> lines() {
    return List.of(
        new SyncLine.Checkpoint(
            new OpId(170026),
            "3",
            List.of(
                new SyncLine.BucketState(
                    "1#b[\"ü\"]",
                    -93886621,
                    2,
                    3,
                    List.of(
                        new SyncLine.Subscription(true, 0), new SyncLine.Subscription(false, 1)))),
            List.of(
                new SyncLine.StreamDescription("b", true),
                new SyncLine.StreamDescription(
                    "s",
                    false,
                    List.of(
                        new SyncLine.StreamError(null, "default failed"),
                        new SyncLine.StreamError(1, "Expected \"JSON\""))))),
        new SyncLine.CheckpointDiff(new OpId(4), null, List.of(), List.of("1#old[]")),
        new SyncLine.Data(
            "b",
            OpId.ZERO,
            new OpId(9),
            true,
            List.of(
                new SyncLine.Op(
                    new OpId(2),
                    OpType.PUT,
                    "t",
                    "i",
                    "s",
                    "{\"id\":\"i\",\"x\":\"😀\"}",
                    3640386756L),
                new SyncLine.Op(new OpId(3), OpType.REMOVE, "t", "i", "s", null, 1),
                new SyncLine.Op(new OpId(9), OpType.CLEAR, null, null, null, null, 4294967295L))),
        new SyncLine.PartialCheckpointComplete(new OpId(9), 1),
        new SyncLine.CheckpointComplete(new OpId(9)),
        new SyncLine.TokenExpiresIn(57));
  }

  @Test
  void every_line_decodes_to_the_same_json_as_ndjson() throws Exception {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (SyncLine l : lines()) {
      stream.write(BsonEncoder.encode(l));
    }
    ByteArrayInputStream in = new ByteArrayInputStream(stream.toByteArray());
    for (SyncLine l : lines()) {
      String decoded = BsonDecoder.next(in);
      assertThat(JSON.readTree(decoded))
          .as(l.toString())
          .isEqualTo(JSON.readTree(NdjsonEncoder.encode(l)));
    }
    assertThat(BsonDecoder.next(in)).isNull();
  }

  @Test
  void stream_errors_name_their_subscription_or_default() {
    assertThat(NdjsonEncoder.encode(lines().get(0)))
        .contains(
            "\"streams\":[{\"name\":\"b\",\"is_default\":true,"
                + "\"errors\":[]},{\"name\":\"s\",\"is_default\":false,\"errors\":[{\"subscription\":\"default\","
                + "\"message\":\"default failed\"},{\"subscription\":1,\"message\":\"Expected \\\"JSON\\\"\"}]}]");
  }

  @Test
  void documents_are_self_delimiting_with_a_little_endian_length() {
    byte[] doc = BsonEncoder.encode(new SyncLine.TokenExpiresIn(0));
    int length =
        (doc[0] & 0xff) | (doc[1] & 0xff) << 8 | (doc[2] & 0xff) << 16 | (doc[3] & 0xff) << 24;
    assertThat(length).isEqualTo(doc.length);
    assertThat(doc[doc.length - 1]).isZero();
  }
}
