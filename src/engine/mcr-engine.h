/* mcr-engine.h: the engine's public API, no GTK
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include "mcr-map-spec.h"
#include "mcr-options.h"
