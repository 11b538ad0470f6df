/**
 * Authentication SPI: turning a client's token into verified claims. <em>Incubating</em>: the sync
 * stream issue adds the JWT implementation.
 */
@NullMarked
package dev.syncline.api.auth;

import org.jspecify.annotations.NullMarked;
