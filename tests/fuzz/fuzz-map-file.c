/* fuzz-map-file.c: .mcrouter files, and the JSON check in front of json-glib
 *
 * Oracles: a refused file gets an MCR_MAP_FILE_ERROR naming it; an accepted
 * one survives save and load unchanged; text that mcr_json_check() passes,
 * json-glib parses.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "fuzz-common.h"
#include "mcr-ids.h"
#include "mcr-json-check.h"
#include "mcr-map-file.h"

#define NAME "fuzz.mcrouter"
#define SAVE_ALL (MCR_MAP_FILE_SAVE_PASSWORD | MCR_MAP_FILE_SAVE_ACTIONS)

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
check_json_glib_parses (const char *text,
                        size_t      size)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, text, (gssize) size, &error))
    {
      g_printerr ("json-glib refused what mcr_json_check() passed: %s\n", error->message);
      abort ();
    }
  fuzz_check (json_parser_get_root (parser) != NULL);
}

/* Both checks, and the repair changes nothing the strict check passes. */
static void
check_json_glib_agrees (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *copy = g_memdup2 (data, size);
  gboolean strict = mcr_json_check ((const char *) data, size, MCR_JSON_DEFAULT_MAX_DEPTH, NULL);
  gboolean repaired = mcr_json_check_and_repair (copy, size, MCR_JSON_DEFAULT_MAX_DEPTH, NULL);

  fuzz_check (!strict || repaired);
  if (strict)
    {
      fuzz_check (size == 0 || memcmp (copy, data, size) == 0);
      check_json_glib_parses ((const char *) data, size);
    }
  if (repaired)
    {
      fuzz_check (mcr_json_check (copy, size, MCR_JSON_DEFAULT_MAX_DEPTH, NULL));
      check_json_glib_parses (copy, size);
    }
}

static void
check_round_trip (McrMapFile *mf)
{
  g_autoptr(GBytes) written = mcr_map_file_to_bytes (mf, SAVE_ALL);
  g_autoptr(GBytes) rewritten = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) again = mcr_map_file_new_from_bytes (written, NAME, &error);

  if (again == NULL)
    {
      g_printerr ("our own file does not load: %s\n", error->message);
      abort ();
    }
  fuzz_check (g_strcmp0 (mcr_map_file_get_hostname (mf), mcr_map_file_get_hostname (again)) == 0);
  fuzz_check (g_strcmp0 (mcr_map_file_get_username (mf), mcr_map_file_get_username (again)) == 0);
  fuzz_check (g_strcmp0 (mcr_map_file_get_password (mf), mcr_map_file_get_password (again)) == 0);
  fuzz_check (g_strcmp0 (mcr_map_file_get_certhash (mf), mcr_map_file_get_certhash (again)) == 0);
  fuzz_check (mcr_map_file_get_mappings (mf)->len == mcr_map_file_get_mappings (again)->len);
  for (guint i = 0; i < mcr_map_file_get_mappings (mf)->len; i++)
    {
      McrMapSpec *a = g_ptr_array_index (mcr_map_file_get_mappings (mf), i);
      McrMapSpec *b = g_ptr_array_index (mcr_map_file_get_mappings (again), i);

      /* A mapping names its device by id, or by name alone (files written by hand). */
      fuzz_check (a->node_id != NULL ? mcr_id_is_valid (a->node_id, MCR_ID_NODE)
                                     : a->node_name != NULL && *a->node_name != '\0');
      fuzz_check (a->protocol == MCR_PROTOCOL_TCP || a->protocol == MCR_PROTOCOL_UDP);
      fuzz_check (a->app_id <= MCR_APP_LAST);
      fuzz_check (a->remote_port > 0);
      fuzz_check (mcr_map_spec_equal_target (a, b));
      fuzz_check (a->local_port == b->local_port);
      fuzz_check (g_strcmp0 (a->node_name, b->node_name) == 0);
      fuzz_check (g_strcmp0 (a->mesh_id, b->mesh_id) == 0);
      fuzz_check (g_strcmp0 (a->app_name, b->app_name) == 0);
      fuzz_check (g_strcmp0 (a->name, b->name) == 0);
      fuzz_check (a->auto_exit == b->auto_exit && a->launch == b->launch);
    }
  rewritten = mcr_map_file_to_bytes (again, SAVE_ALL);
  fuzz_check (g_bytes_equal (written, rewritten));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(McrMapFile) mf = mcr_map_file_new_from_bytes (bytes, NAME, &error);

  check_json_glib_agrees (data, size);
  if (mf == NULL)
    {
      fuzz_check (error != NULL && error->domain == MCR_MAP_FILE_ERROR);
      fuzz_check (g_str_has_prefix (error->message, NAME ": "));
      fuzz_check (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  fuzz_check (error == NULL);
  fuzz_check (mcr_map_file_get_hostname (mf) != NULL && mcr_map_file_get_username (mf) != NULL);
  fuzz_check (mcr_map_file_get_mappings (mf)->len <= MCR_MAP_FILE_MAX_MAPPINGS);
  for (const char *const *w = mcr_map_file_get_warnings (mf); *w != NULL; w++)
    fuzz_check (g_str_has_prefix (*w, NAME ": "));
  check_round_trip (mf);
  return 0;
}
