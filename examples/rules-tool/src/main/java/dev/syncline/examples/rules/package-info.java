/** The rules tool: {@code check} and {@code explain} for sync-rules files. */
@NullMarked
package dev.syncline.examples.rules;

import org.jspecify.annotations.NullMarked;
