package dev.syncline.core.internal;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * States how a method's nullness follows from its arguments' (for example {@code "!null ->
 * !null"}), so that NullAway, which reads any annotation named {@code Contract}, knows a non-null
 * argument gives a non-null result.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface Contract {
  /**
   * The contract in JetBrains' notation: clauses such as {@code "null -> null; !null -> !null"}.
   */
  String value();
}
