package dev.syncline.core.internal.rules.yaml;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML document as a tree of {@link YNode}s with UTF-16 source offsets. Parsing never throws:
 * syntax errors are returned as {@link YamlSyntaxError}s.
 */
public final class YamlTree {
  private YamlTree() {}

  /** A syntax error with its offset. */
  public record YamlSyntaxError(String message, int start, int end) {}

  /** The result of parsing. */
  public record Parsed(@Nullable YNode root, List<YamlSyntaxError> errors) {}

  /** A node. */
  public sealed interface YNode permits YScalar, YMap, YSeq {
    int start();

    int end();
  }

  /** The style a scalar was written in. */
  public enum Style {
    PLAIN,
    SINGLE_QUOTED,
    DOUBLE_QUOTED,
    LITERAL,
    FOLDED
  }

  /**
   * A scalar.
   *
   * @param value the parsed text
   * @param style how it was written
   * @param tag the explicit tag, if any (e.g. {@code !accept_potentially_dangerous_queries})
   */
  public record YScalar(String value, Style style, @Nullable String tag, int start, int end)
      implements YNode {
    private static final Pattern INT = Pattern.compile("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
    private static final Pattern FLOAT =
        Pattern.compile(
            "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");

    /** Whether the YAML core schema reads this as null. */
    public boolean isNull() {
      return style == Style.PLAIN
          && (value.isEmpty()
              || value.equals("~")
              || (value.equalsIgnoreCase("null") && !value.equals("nULL")));
    }

    /** The boolean value under the core schema, or null. */
    public @Nullable Boolean booleanValue() {
      if (style != Style.PLAIN) {
        return null;
      }
      return switch (value) {
        case "true", "True", "TRUE" -> Boolean.TRUE;
        case "false", "False", "FALSE" -> Boolean.FALSE;
        default -> null;
      };
    }

    /** The numeric value under the core schema, or null. */
    public @Nullable Double numberValue() {
      if (style != Style.PLAIN) {
        return null;
      }
      try {
        if (INT.matcher(value).matches()) {
          if (value.startsWith("0o")) {
            return (double) Long.parseLong(value.substring(2), 8);
          } else if (value.startsWith("0x")) {
            return (double) Long.parseLong(value.substring(2), 16);
          }
          return Double.parseDouble(value);
        }
        if (FLOAT.matcher(value).matches()) {
          String v = value.toLowerCase(Locale.ROOT);
          if (v.endsWith(".inf")) {
            return v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
          } else if (v.endsWith(".nan")) {
            return Double.NaN;
          }
          return Double.parseDouble(value);
        }
      } catch (NumberFormatException e) {
        return null;
      }
      return null;
    }

    /** Whether the core schema reads this as a string. */
    public boolean isString() {
      return style != Style.PLAIN || (!isNull() && booleanValue() == null && numberValue() == null);
    }
  }

  /** A map entry. */
  public record Entry(YScalar key, YNode value) {}

  /** A mapping; keys that are not scalars are reported as errors. */
  public record YMap(List<Entry> entries, int start, int end) implements YNode {
    /** The value of a key, or null. */
    public @Nullable YNode get(String key) {
      for (Entry e : entries) {
        if (e.key.value().equals(key)) {
          return e.value;
        }
      }
      return null;
    }

    /** The entry of a key, or null. */
    public @Nullable Entry entry(String key) {
      for (Entry e : entries) {
        if (e.key.value().equals(key)) {
          return e;
        }
      }
      return null;
    }
  }

  /** A sequence. */
  public record YSeq(List<YNode> items, int start, int end) implements YNode {}

  /** Parses YAML text. */
  public static Parsed parse(String yaml) {
    List<YamlSyntaxError> errors = new ArrayList<>();
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(true);
    options.setMaxAliasesForCollections(50);
    options.setCodePointLimit(10 * 1024 * 1024);
    Node node;
    try {
      node = new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      int at = mark == null ? 0 : utf16(yaml, mark.getIndex());
      String message =
          (e.getProblem() != null ? e.getProblem() : e.getMessage())
              + " at line "
              + (mark == null ? 1 : mark.getLine() + 1)
              + ", column "
              + (mark == null ? 1 : mark.getColumn() + 1);
      errors.add(new YamlSyntaxError(message, at, Math.min(yaml.length(), at + 1)));
      return new Parsed(null, errors);
    } catch (RuntimeException e) {
      errors.add(
          new YamlSyntaxError(String.valueOf(e.getMessage()), 0, Math.min(10, yaml.length())));
      return new Parsed(null, errors);
    }
    if (node == null) {
      return new Parsed(null, errors);
    }
    YNode root = convert(yaml, node, errors);
    return new Parsed(root, errors);
  }

  private static int utf16(String s, int codePointIndex) {
    try {
      return s.offsetByCodePoints(0, Math.min(codePointIndex, s.codePointCount(0, s.length())));
    } catch (IndexOutOfBoundsException e) {
      return s.length();
    }
  }

  private static YNode convert(String yaml, Node node, List<YamlSyntaxError> errors) {
    int start = utf16(yaml, node.getStartMark().getIndex());
    int end = utf16(yaml, node.getEndMark().getIndex());
    if (node instanceof ScalarNode s) {
      Style style =
          switch (s.getScalarStyle()) {
            case SINGLE_QUOTED -> Style.SINGLE_QUOTED;
            case DOUBLE_QUOTED -> Style.DOUBLE_QUOTED;
            case LITERAL -> Style.LITERAL;
            case FOLDED -> Style.FOLDED;
            default -> Style.PLAIN;
          };
      String tag =
          s.getTag() != null && !s.getTag().getValue().startsWith("tag:yaml.org,2002:")
              ? s.getTag().getValue()
              : null;
      return new YScalar(s.getValue(), style, tag, start, end);
    } else if (node instanceof MappingNode m) {
      List<Entry> entries = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      int contentEnd = start;
      for (NodeTuple t : m.getValue()) {
        YNode key = convert(yaml, t.getKeyNode(), errors);
        YNode value = convert(yaml, t.getValueNode(), errors);
        if (!(key instanceof YScalar k)) {
          errors.add(new YamlSyntaxError("Map keys must be scalars", key.start(), key.end()));
          continue;
        }
        if (!seen.add(k.value())) {
          errors.add(
              new YamlSyntaxError(
                  "Map keys must be unique at line " + lineOf(yaml, k.start()),
                  k.start(),
                  k.end()));
        }
        if (value instanceof YScalar vs && vs.value().isEmpty() && vs.style() == Style.PLAIN) {
          // An empty value sits where its key is.
          value = new YScalar("", Style.PLAIN, vs.tag(), k.start(), k.start() + 1);
        }
        entries.add(new Entry(k, value));
        contentEnd = Math.max(contentEnd, Math.max(k.end(), value.end()));
      }
      boolean flow = m.getFlowStyle() == DumperOptions.FlowStyle.FLOW;
      return new YMap(List.copyOf(entries), start, flow ? end : lineEnd(yaml, contentEnd));
    } else {
      SequenceNode sq = (SequenceNode) node;
      List<YNode> items = new ArrayList<>();
      for (Node n : sq.getValue()) {
        items.add(convert(yaml, n, errors));
      }
      return new YSeq(List.copyOf(items), start, end);
    }
  }

  /**
   * Extends an offset over trailing spaces and one line break, like the reference's node ranges.
   */
  private static int lineEnd(String yaml, int offset) {
    int i = offset;
    while (i < yaml.length() && (yaml.charAt(i) == ' ' || yaml.charAt(i) == '\t')) {
      i++;
    }
    if (i < yaml.length() && yaml.charAt(i) == '\r') {
      i++;
    }
    if (i < yaml.length() && yaml.charAt(i) == '\n') {
      return i + 1;
    }
    return offset;
  }

  private static int lineOf(String s, int offset) {
    int line = 1;
    for (int i = 0; i < offset && i < s.length(); i++) {
      if (s.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  /**
   * Maps an offset in a scalar's parsed value to an offset in the YAML text, by aligning the value
   * with the source (escapes, quotes, folded line breaks and indentation are skipped).
   */
  public static int sourceOffset(String yaml, YScalar scalar, int valueOffset) {
    int src = scalar.start();
    if (scalar.style() == Style.SINGLE_QUOTED || scalar.style() == Style.DOUBLE_QUOTED) {
      src++;
    } else if (scalar.style() == Style.LITERAL || scalar.style() == Style.FOLDED) {
      int nl = yaml.indexOf('\n', src);
      src = nl < 0 ? yaml.length() : nl + 1;
    }
    String value = scalar.value();
    int end = Math.min(yaml.length(), Math.max(scalar.end(), src));
    int v = 0;
    while (v < valueOffset && v < value.length()) {
      if (src >= end) {
        return end;
      }
      char c = yaml.charAt(src);
      char want = value.charAt(v);
      if (scalar.style() == Style.DOUBLE_QUOTED && c == '\\') {
        char e = src + 1 < yaml.length() ? yaml.charAt(src + 1) : ' ';
        if (e == '\n' || e == '\r') {
          src += 2;
          continue;
        }
        src +=
            switch (e) {
              case 'x' -> 4;
              case 'u' -> 6;
              case 'U' -> 10;
              default -> 2;
            };
        v++;
        continue;
      }
      if (scalar.style() == Style.SINGLE_QUOTED && c == '\'' && want == '\'') {
        src += 2;
        v++;
        continue;
      }
      if (c == want) {
        src++;
        v++;
      } else {
        src++;
      }
    }
    // Skip source characters that the value does not contain at this position.
    if (v < value.length()) {
      char want = value.charAt(v);
      while (src < end
          && yaml.charAt(src) != want
          && (yaml.charAt(src) == ' '
              || yaml.charAt(src) == '\n'
              || yaml.charAt(src) == '\r'
              || yaml.charAt(src) == '\t')) {
        src++;
      }
    }
    return src;
  }
}
