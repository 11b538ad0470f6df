package dev.syncline.core;

import dev.syncline.spi.source.SourcePosition;

/** A source position for tests: its text is its serialized form and its order. */
public record TestPosition(String value) implements SourcePosition {
  @Override
  public String serialize() {
    return value;
  }

  @Override
  public int compareTo(SourcePosition o) {
    return value.compareTo(o.serialize());
  }
}
