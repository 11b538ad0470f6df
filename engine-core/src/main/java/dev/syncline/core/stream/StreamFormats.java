package dev.syncline.core.stream;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Content negotiation of the stream format (PowerSync protocol §1.1): NDJSON unless the client
 * prefers BSON.
 */
final class StreamFormats {
  static final String NDJSON = "application/x-ndjson";
  static final String BSON = "application/vnd.powersync.bson-stream";

  private StreamFormats() {}

  /**
   * Whether the {@code Accept} header prefers BSON over NDJSON (ties go to NDJSON, as listed
   * first).
   */
  static boolean prefersBson(@Nullable String accept) {
    if (accept == null || accept.isBlank()) {
      return false;
    }
    double bson = quality(accept, BSON);
    double ndjson = quality(accept, NDJSON);
    return bson > ndjson;
  }

  /**
   * The quality the header gives a media type: its own entry, else {@code application/*}, else
   * {@code *}/{@code *}.
   */
  static double quality(String accept, String type) {
    double exact = -1;
    double subtype = -1;
    double any = -1;
    for (String part : accept.split(",", -1)) {
      String[] params = part.trim().split(";", -1);
      String media = params[0].trim().toLowerCase(Locale.ROOT);
      double q = 1;
      for (int i = 1; i < params.length; i++) {
        String p = params[i].trim();
        if (p.startsWith("q=")) {
          try {
            q = Double.parseDouble(p.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      if (media.equals(type)) {
        exact = Math.max(exact, q);
      } else if (media.equals("application/*")) {
        subtype = Math.max(subtype, q);
      } else if (media.equals("*/*")) {
        any = Math.max(any, q);
      }
    }
    return exact >= 0 ? exact : subtype >= 0 ? subtype : Math.max(any, 0);
  }
}
