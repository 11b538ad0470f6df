package dev.syncline.api.stream;

import dev.syncline.api.OpId;
import dev.syncline.api.rules.RequestContext;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A client's request to {@code POST /sync/stream} (PowerSync protocol §1.1), parsed.
 *
 * @param buckets buckets the client holds, with the op id it has data up to
 * @param rawData whether PUT data is sent as a JSON string (all current clients)
 * @param clientId the client's stable id, for write checkpoints; may be null
 * @param request the verified claims, client parameters and stream subscriptions
 */
public record SyncRequest(
    Map<String, OpId> buckets, boolean rawData, @Nullable String clientId, RequestContext request) {
  /** Copies the bucket positions. */
  public SyncRequest {
    buckets = Map.copyOf(buckets);
    Objects.requireNonNull(request, "request");
  }
}
