package dev.syncline.core.internal.rules.eval;

import org.jspecify.annotations.Nullable;

/**
 * A scalar function or operator implementation.
 *
 * @param name the SQL name
 * @param minArgs fewest arguments accepted
 * @param maxArgs most arguments accepted
 * @param body the implementation; receives exactly the arguments given (missing optional ones are
 *     not passed)
 */
public record SqlFunction(String name, int minArgs, int maxArgs, Body body) {
  /** The implementation of a function. */
  @FunctionalInterface
  public interface Body {
    /** Evaluates the function; may throw for invalid input (reported as an evaluation error). */
    @Nullable Object call(@Nullable Object[] args);
  }

  /** Calls the function. */
  public @Nullable Object call(@Nullable Object... args) {
    return body.call(args);
  }

  static @Nullable Object arg(@Nullable Object[] args, int i) {
    return i < args.length ? args[i] : null;
  }
}
