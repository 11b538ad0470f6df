/**
 * Reading sync configs: a YAML node tree that keeps the source range and scalar style of every
 * node, so that problems found in SQL inside a scalar can be reported at their exact position in
 * the YAML text.
 */
@NullMarked
package dev.syncline.core.internal.rules.yaml;

import org.jspecify.annotations.NullMarked;
