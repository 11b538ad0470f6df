/**
 * Time under the test's control: {@link dev.syncline.testkit.time.ManualClock} moves only when the
 * test moves it, and {@link dev.syncline.testkit.time.ManualScheduler} runs scheduled work on the
 * test's thread when it falls due.
 */
@NullMarked
package dev.syncline.testkit.time;

import org.jspecify.annotations.NullMarked;
