package dev.syncline.core.internal.stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.syncline.api.ErrorCode;
import dev.syncline.api.OpId;
import dev.syncline.api.SynclineException;
import dev.syncline.api.auth.AuthContext;
import dev.syncline.api.rules.RequestContext;
import dev.syncline.api.stream.SyncRequest;
import dev.syncline.spi.storage.WriteCheckpointKey;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Parses the body of {@code POST /sync/stream} (PowerSync protocol §1.1). Unknown fields are
 * ignored and {@code null} is accepted wherever a field is optional; anything malformed is a {@code
 * PSYNC_S2001} error listing what is wrong. Stateless and thread-safe.
 */
public final class SyncRequestParser {
  /** Largest accepted request body. */
  public static final int MAX_BODY_BYTES = 1 << 20;

  /** Problems listed in an error; the rest are counted. */
  static final int MAX_PROBLEMS = 10;

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  static {
    JSON.getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(64)
                .maxStringLength(MAX_BODY_BYTES)
                .build());
  }

  private SyncRequestParser() {}

  /** Parses a request body for a verified user. */
  public static SyncRequest parse(byte[] body, AuthContext auth) {
    if (body.length > MAX_BODY_BYTES) {
      throw invalid(List.of("request body is larger than " + MAX_BODY_BYTES + " bytes"));
    }
    JsonNode root;
    try {
      root = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      throw invalid(List.of("request body is not valid JSON"));
    }
    if (root == null || !root.isObject()) {
      throw invalid(List.of("request body must be a JSON object"));
    }
    List<String> problems = new ArrayList<>();
    Map<String, OpId> buckets = new LinkedHashMap<>();
    JsonNode b = root.get("buckets");
    if (present(b)) {
      if (!b.isArray()) {
        problems.add("buckets must be an array");
      } else {
        for (int i = 0; i < b.size(); i++) {
          JsonNode e = b.get(i);
          if (!e.isObject() || !e.path("name").isTextual() || !e.path("after").isTextual()) {
            problems.add("buckets[" + i + "] must be {\"name\": string, \"after\": string}");
            continue;
          }
          try {
            buckets.put(e.get("name").asText(), OpId.parse(e.get("after").asText()));
          } catch (SynclineException ex) {
            problems.add("buckets[" + i + "].after must be a base-10 op id");
          }
        }
      }
    }
    boolean rawData = true;
    JsonNode raw = root.get("raw_data");
    if (present(raw)) {
      if (!raw.isBoolean()) {
        problems.add("raw_data must be a boolean");
      } else {
        rawData = raw.booleanValue();
      }
    }
    String clientId = null;
    JsonNode cid = root.get("client_id");
    if (present(cid)) {
      if (!cid.isTextual()) {
        problems.add("client_id must be a string");
      } else {
        clientId = cid.asText();
        try {
          WriteCheckpointKey.checkClientId(clientId);
        } catch (SynclineException e) {
          problems.add(e.getMessage().substring(e.getMessage().indexOf("client_id")));
        }
      }
    }
    Map<String, @Nullable Object> parameters = Map.of();
    JsonNode params = root.get("parameters");
    if (present(params)) {
      if (!params.isObject()) {
        problems.add("parameters must be an object");
      } else {
        parameters = toMap(params);
      }
    }
    boolean includeDefaults = true;
    List<RequestContext.Subscription> subscriptions = new ArrayList<>();
    JsonNode streams = root.get("streams");
    if (present(streams)) {
      if (!streams.isObject()) {
        problems.add("streams must be an object");
      } else {
        JsonNode inc = streams.get("include_defaults");
        if (present(inc)) {
          if (!inc.isBoolean()) {
            problems.add("streams.include_defaults must be a boolean");
          } else {
            includeDefaults = inc.booleanValue();
          }
        }
        JsonNode subs = streams.get("subscriptions");
        if (present(subs)) {
          if (!subs.isArray()) {
            problems.add("streams.subscriptions must be an array");
          } else {
            for (int i = 0; i < subs.size(); i++) {
              JsonNode s = subs.get(i);
              if (!s.isObject() || !s.path("stream").isTextual() || !s.has("parameters")) {
                problems.add(
                    "streams.subscriptions[" + i + "] must have \"stream\" and \"parameters\"");
                continue;
              }
              JsonNode p = s.get("parameters");
              JsonNode prio = s.get("override_priority");
              if (present(p) && !p.isObject()) {
                problems.add(
                    "streams.subscriptions[" + i + "].parameters must be an object or null");
                continue;
              }
              if (present(prio)
                  && !(prio.isIntegralNumber() && prio.asInt() >= 0 && prio.asInt() <= 3)) {
                problems.add(
                    "streams.subscriptions[" + i + "].override_priority must be 0..3 or null");
                continue;
              }
              subscriptions.add(
                  new RequestContext.Subscription(
                      s.get("stream").asText(),
                      present(p) ? toMap(p) : Map.of(),
                      present(prio) ? prio.asInt() : null));
            }
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw invalid(problems);
    }
    return new SyncRequest(
        buckets,
        rawData,
        clientId,
        new RequestContext(auth.claims(), parameters, includeDefaults, subscriptions));
  }

  private static boolean present(@Nullable JsonNode n) {
    return n != null && !n.isNull();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, @Nullable Object> toMap(JsonNode node) {
    Map<String, @Nullable Object> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      out.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
    }
    return out;
  }

  /**
   * The first {@link #MAX_PROBLEMS} problems and how many more: a request with many mistakes gets a
   * short answer.
   */
  private static SynclineException invalid(List<String> problems) {
    String shown = String.join("; ", problems.subList(0, Math.min(MAX_PROBLEMS, problems.size())));
    int more = problems.size() - MAX_PROBLEMS;
    return new SynclineException(
        ErrorCode.INVALID_REQUEST,
        "Invalid request: "
            + shown
            + (more > 0 ? "; and " + more + " more problem" + (more == 1 ? "" : "s") : ""));
  }
}
