package dev.syncline.core.internal.rules.eval;

import dev.syncline.api.WireFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/** Well-known-binary (and PostGIS extended WKB) geometry, for the {@code st_*} functions. */
final class Geometry {
  private Geometry() {}

  /** A parsed geometry. */
  sealed interface Shape permits Point, Line, Polygon, Multi {
    Object toGeoJson();

    String toWkt();
  }

  record Point(double x, double y) implements Shape {
    @Override
    public Object toGeoJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "Point");
      m.put("coordinates", coords());
      return m;
    }

    List<Object> coords() {
      return List.of(x, y);
    }

    String wktCoords() {
      return WireFormat.formatNumber(x) + " " + WireFormat.formatNumber(y);
    }

    @Override
    public String toWkt() {
      return "POINT(" + wktCoords() + ")";
    }
  }

  record Line(List<Point> points) implements Shape {
    @Override
    public Object toGeoJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "LineString");
      m.put("coordinates", coords());
      return m;
    }

    List<Object> coords() {
      return points.stream().map(p -> (Object) p.coords()).toList();
    }

    String wktCoords() {
      return points.stream().map(Point::wktCoords).collect(Collectors.joining(","));
    }

    @Override
    public String toWkt() {
      return "LINESTRING(" + wktCoords() + ")";
    }
  }

  record Polygon(List<Line> rings) implements Shape {
    @Override
    public Object toGeoJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", "Polygon");
      m.put("coordinates", coords());
      return m;
    }

    List<Object> coords() {
      return rings.stream().map(r -> (Object) r.coords()).toList();
    }

    String wktCoords() {
      return rings.stream().map(r -> "(" + r.wktCoords() + ")").collect(Collectors.joining(","));
    }

    @Override
    public String toWkt() {
      return "POLYGON(" + wktCoords() + ")";
    }
  }

  record Multi(int type, List<Shape> parts) implements Shape {
    private static final String[] NAMES = {
      "", "", "", "", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"
    };

    @Override
    public Object toGeoJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", NAMES[type]);
      if (type == 7) {
        m.put("geometries", parts.stream().map(Shape::toGeoJson).toList());
      } else {
        m.put("coordinates", parts.stream().map(Multi::coordsOf).toList());
      }
      return m;
    }

    private static Object coordsOf(Shape p) {
      if (p instanceof Point pt) {
        return pt.coords();
      } else if (p instanceof Line l) {
        return l.coords();
      } else if (p instanceof Polygon pg) {
        return pg.coords();
      }
      return p.toGeoJson();
    }

    @Override
    public String toWkt() {
      String inner =
          parts.stream()
              .map(
                  p ->
                      switch (type) {
                        case 4 -> ((Point) p).wktCoords();
                        case 5 -> "(" + ((Line) p).wktCoords() + ")";
                        case 6 -> "(" + ((Polygon) p).wktCoords() + ")";
                        default -> p.toWkt();
                      })
              .collect(Collectors.joining(","));
      return NAMES[type].toUpperCase(Locale.ROOT) + "(" + inner + ")";
    }
  }

  static @Nullable Shape parse(@Nullable Object value) {
    byte[] bytes;
    if (value == null) {
      return null;
    } else if (value instanceof byte[] b) {
      bytes = b;
    } else if (value instanceof String s) {
      bytes = hexPrefix(s);
    } else {
      return null;
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    return read(buf);
  }

  /** Node's {@code Buffer.from(s, 'hex')}: decodes hex pairs up to the first invalid one. */
  private static byte[] hexPrefix(String s) {
    int n = 0;
    while (n + 1 < s.length()
        && Character.digit(s.charAt(n), 16) >= 0
        && Character.digit(s.charAt(n + 1), 16) >= 0) {
      n += 2;
    }
    return HexFormat.of().parseHex(s, 0, n);
  }

  private static Shape read(ByteBuffer buf) {
    if (!buf.hasRemaining()) {
      throw new IllegalArgumentException("Invalid WKB: empty");
    }
    buf.order(buf.get() == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    int rawType = buf.getInt();
    boolean hasSrid = (rawType & 0x20000000) != 0;
    boolean hasZ = (rawType & 0x80000000) != 0;
    boolean hasM = (rawType & 0x40000000) != 0;
    int type = rawType & 0x0fffffff;
    if (type > 1000) {
      hasZ = hasZ || (type / 1000) % 2 == 1;
      hasM = hasM || type / 1000 >= 2;
      type = type % 1000;
    }
    if (hasSrid) {
      buf.getInt();
    }
    int dims = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0);
    return switch (type) {
      case 1 -> point(buf, dims);
      case 2 -> line(buf, dims);
      case 3 -> {
        int n = buf.getInt();
        List<Line> rings = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          rings.add(line(buf, dims));
        }
        yield new Polygon(rings);
      }
      case 4, 5, 6, 7 -> {
        int n = buf.getInt();
        List<Shape> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          parts.add(read(buf));
        }
        yield new Multi(type, parts);
      }
      default -> throw new IllegalArgumentException("GeometryType " + type + " not supported");
    };
  }

  private static Point point(ByteBuffer buf, int dims) {
    double x = buf.getDouble();
    double y = buf.getDouble();
    for (int i = 2; i < dims; i++) {
      buf.getDouble();
    }
    return new Point(x, y);
  }

  private static Line line(ByteBuffer buf, int dims) {
    int n = buf.getInt();
    List<Point> points = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      points.add(point(buf, dims));
    }
    return new Line(points);
  }
}
