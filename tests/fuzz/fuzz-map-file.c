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
#include "mcr-json-check.h"
#include "mcr-map-file.h"

#define NAME "fuzz.mcrouter"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

static void
check_json_glib_agrees (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;

  if (!mcr_json_check ((const char *) data, size, MCR_JSON_DEFAULT_MAX_DEPTH, NULL))
    return;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) size, &error))
    {
      g_printerr ("json-glib refused what mcr_json_check() passed: %s\n", error->message);
      abort ();
    }
  fuzz_check (json_parser_get_root (parser) != NULL);
}

static void
check_round_trip (McrMapFile *mf)
{
  g_autoptr(GBytes) written = mcr_map_file_to_bytes (mf, MCR_MAP_FILE_SAVE_PASSWORD);
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

      fuzz_check (a->node_id != NULL && g_str_has_prefix (a->node_id, "node//"));
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
  rewritten = mcr_map_file_to_bytes (again, MCR_MAP_FILE_SAVE_PASSWORD);
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
