/**
 * Runs sync-rules conformance vectors (the format of {@code shared/conformance}): loads a directory
 * of vector files and checks each case against the compiler. Used by engine-core's JUnit suite and
 * the testkit's {@code ConformanceRunner}.
 */
@NullMarked
package dev.syncline.core.internal.conformance;

import org.jspecify.annotations.NullMarked;
