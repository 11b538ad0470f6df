package dev.syncline.core.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The rules text as the engine stores it in a rules version: the user's YAML, and, when the version
 * keeps some bucket definitions' ids from the version it replaced, a last comment line naming them
 * ({@code # syncline-bucket-versions: {"owned":1}}). A comment, so that the stored text stays the
 * rules a person deployed and any compiler reads it alike.
 */
final class StoredRules {
  private static final String MARKER = "\n# syncline-bucket-versions: ";
  private static final ObjectMapper JSON = new ObjectMapper();

  private StoredRules() {}

  /**
   * The stored text for {@code yaml} whose definitions in {@code kept} keep their ids' versions.
   */
  static String encode(String yaml, Map<String, Integer> kept) {
    if (kept.isEmpty()) {
      return yaml;
    }
    try {
      return yaml
          + (yaml.endsWith("\n") ? "" : "\n")
          + MARKER.substring(1)
          + JSON.writeValueAsString(new TreeMap<>(kept))
          + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The rules the user deployed, without the engine's line. */
  static String yaml(String stored) {
    int i = markerAt(stored);
    return i < 0 ? stored : stored.substring(0, i + 1);
  }

  /** Whether {@code stored} holds the rules {@code yaml} (the engine's line aside). */
  static boolean sameRules(String stored, String yaml) {
    String y = yaml(stored);
    return y.equals(yaml) || (!yaml.endsWith("\n") && y.equals(yaml + "\n"));
  }

  /** The definitions whose bucket ids keep another version's prefix, and that version. */
  static Map<String, Integer> keptVersions(String stored) {
    int i = markerAt(stored);
    if (i < 0) {
      return Map.of();
    }
    try {
      return Map.copyOf(
          JSON.readValue(
              stored.substring(i + MARKER.length()).trim(),
              new TypeReference<Map<String, Integer>>() {}));
    } catch (JsonProcessingException e) {
      return Map.of(); // not ours after all: fresh ids are always safe
    }
  }

  /** Where the engine's line starts (the newline before it), when it is the last line; else -1. */
  private static int markerAt(String stored) {
    int i = stored.lastIndexOf(MARKER);
    if (i < 0) {
      return -1;
    }
    int nl = stored.indexOf('\n', i + MARKER.length());
    return nl < 0 || nl == stored.length() - 1 ? i : -1;
  }

  /**
   * The bucket definitions {@code next} has exactly as {@code previous} has them, with everything
   * else that affects evaluation equal too (the {@code config} block and any other top-level key);
   * none when in doubt, e.g. for configs with {@code streams}.
   */
  static Set<String> unchangedDefinitions(String previous, String next) {
    Map<?, ?> a = load(previous);
    Map<?, ?> b = load(next);
    Set<String> same = new TreeSet<>();
    if (a == null || b == null || a.containsKey("streams") || b.containsKey("streams")) {
      return same;
    }
    Set<Object> keys = new HashSet<>(a.keySet());
    keys.addAll(b.keySet());
    for (Object key : keys) {
      if (!"bucket_definitions".equals(key) && !Objects.equals(a.get(key), b.get(key))) {
        return same;
      }
    }
    if (a.get("bucket_definitions") instanceof Map<?, ?> da
        && b.get("bucket_definitions") instanceof Map<?, ?> db) {
      for (Map.Entry<?, ?> e : db.entrySet()) {
        if (e.getValue() != null && e.getValue().equals(da.get(e.getKey()))) {
          same.add(String.valueOf(e.getKey()));
        }
      }
    }
    return same;
  }

  private static @Nullable Map<?, ?> load(String yaml) {
    try {
      Object o = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
      return o instanceof Map<?, ?> m ? m : null;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
