/**
 * The engine's pure parts: what the detectors find in a set of observations ({@link
 * dev.syncline.core.internal.engine.Findings}) and the operators' health document ({@link
 * dev.syncline.core.internal.engine.HealthJson}). {@link dev.syncline.core.engine.Syncline} gathers
 * the observations and serves the results.
 */
@NullMarked
package dev.syncline.core.internal.engine;

import org.jspecify.annotations.NullMarked;
