/* fuzz-map-spec.c: the -map: and -relaymap: arguments
 *
 * Oracles: a refused argument gets an MCR_MAP_SPEC_ERROR; an accepted one
 * written back with mcr_map_spec_to_argument() parses to the same map.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz-common.h"
#include "mcr-map-spec.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapSpec) spec = mcr_map_spec_parse_argument (text, &error);
  g_autoptr(McrMapSpec) again = NULL;
  g_autofree char *arg = NULL;

  if (spec == NULL)
    {
      fuzz_check (error != NULL && error->domain == MCR_MAP_SPEC_ERROR);
      return 0;
    }
  fuzz_check (spec->node_id != NULL || spec->node_name != NULL);
  fuzz_check (spec->remote_port != 0);

  arg = mcr_map_spec_to_argument (spec);
  again = mcr_map_spec_parse_argument (arg, &error);
  if (again == NULL)
    {
      g_printerr ("'%s' written back as '%s' does not parse: %s\n", text, arg, error->message);
      abort ();
    }
  fuzz_check (mcr_map_spec_equal_target (spec, again));
  fuzz_check (spec->local_port == again->local_port);
  fuzz_check (g_strcmp0 (spec->node_name, again->node_name) == 0);
  fuzz_check (g_strcmp0 (spec->app_name, again->app_name) == 0);
  return 0;
}
