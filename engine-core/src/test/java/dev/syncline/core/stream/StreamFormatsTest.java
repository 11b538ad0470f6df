package dev.syncline.core.stream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StreamFormatsTest {
  @Test
  void ndjson_unless_bson_is_preferred() {
    assertThat(StreamFormats.prefersBson(null)).isFalse();
    assertThat(StreamFormats.prefersBson("*/*")).isFalse();
    assertThat(StreamFormats.prefersBson("application/x-ndjson")).isFalse();
    assertThat(StreamFormats.prefersBson("application/vnd.powersync.bson-stream")).isTrue();
    assertThat(
            StreamFormats.prefersBson(
                "application/vnd.powersync.bson-stream;q=0.9, application/x-ndjson;q=0.8"))
        .isTrue();
    assertThat(
            StreamFormats.prefersBson(
                "application/vnd.powersync.bson-stream;q=0.5, application/x-ndjson"))
        .isFalse();
    assertThat(
            StreamFormats.prefersBson(
                "application/vnd.powersync.bson-stream, application/x-ndjson"))
        .isFalse();
  }
}
