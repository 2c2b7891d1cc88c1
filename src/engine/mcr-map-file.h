/* mcr-map-file.h: .mcrouter files, as the Windows router reads and writes them
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#pragma once

#include <gio/gio.h>

#include "mcr-map-spec.h"

G_BEGIN_DECLS

#define MCR_MAP_FILE_ERROR (mcr_map_file_error_quark ())

typedef enum
{
  MCR_MAP_FILE_ERROR_READ,        /* the file cannot be read */
  MCR_MAP_FILE_ERROR_TOO_BIG,     /* over MCR_MAP_FILE_MAX_SIZE or MCR_MAP_FILE_MAX_MAPPINGS */
  MCR_MAP_FILE_ERROR_SYNTAX,      /* not text, not JSON */
  MCR_MAP_FILE_ERROR_INVALID,     /* a field is missing, of the wrong type or out of range */
  MCR_MAP_FILE_ERROR_UNSUPPORTED, /* asks for the Windows router's own viewers (appId 6, 7) */
  MCR_MAP_FILE_ERROR_WRITE,       /* the file cannot be written */
} McrMapFileError;

#define MCR_MAP_FILE_MAX_SIZE     (1024 * 1024)
#define MCR_MAP_FILE_MAX_MAPPINGS 1000

typedef enum
{
  MCR_MAP_FILE_SAVE_DEFAULT  = 0,
  MCR_MAP_FILE_SAVE_PASSWORD = 1 << 0, /* write the password too (never by default) */
  /* Also write "autoExit" and "launch" when set. The Windows router never
   * writes them: they are one-off actions of a link, and "launch" in a file
   * opens the map's app each time the file is opened. */
  MCR_MAP_FILE_SAVE_ACTIONS  = 1 << 1,
} McrMapFileSaveFlags;

#define MCR_TYPE_MAP_FILE (mcr_map_file_get_type ())
G_DECLARE_FINAL_TYPE (McrMapFile, mcr_map_file, MCR, MAP_FILE, GObject)

GQuark       mcr_map_file_error_quark     (void);

McrMapFile  *mcr_map_file_new             (void);
/* @name: what error messages call the file, usually its base name. */
McrMapFile  *mcr_map_file_new_from_bytes  (GBytes              *bytes,
                                           const char          *name,
                                           GError             **error);
/* Reads on the calling thread: for the command line. */
McrMapFile  *mcr_map_file_new_from_file   (GFile               *file,
                                           GCancellable        *cancellable,
                                           GError             **error);
void         mcr_map_file_load_async      (GFile               *file,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
McrMapFile  *mcr_map_file_load_finish     (GAsyncResult        *result,
                                           GError             **error);

/* Properties "hostname" ("host[:port][/domain][?key=K]", as mcr_server_new()
 * takes it), "username", "password" (NULL: none), "certhash" (uppercase hex,
 * NULL: none). */
const char  *mcr_map_file_get_hostname    (McrMapFile          *self);
void         mcr_map_file_set_hostname    (McrMapFile          *self,
                                           const char          *hostname);
const char  *mcr_map_file_get_username    (McrMapFile          *self);
void         mcr_map_file_set_username    (McrMapFile          *self,
                                           const char          *username);
const char  *mcr_map_file_get_password    (McrMapFile          *self);
void         mcr_map_file_set_password    (McrMapFile          *self,
                                           const char          *password);
const char  *mcr_map_file_get_certhash    (McrMapFile          *self);
void         mcr_map_file_set_certhash    (McrMapFile          *self,
                                           const char          *certhash);

/* (element-type McrMapSpec) (transfer none): every spec has node_id set,
 * or only node_name when the file gave no nodeId (a file written by hand):
 * such a mapping is matched to a device by its name. */
GPtrArray   *mcr_map_file_get_mappings    (McrMapFile          *self);
/* Copies @spec, which must have node_id set (files match devices by id). */
void         mcr_map_file_add_mapping     (McrMapFile          *self,
                                           const McrMapSpec    *spec);
/* Things that were read but not used, for the user: NULL-terminated, never
 * NULL (e.g. "office.mcrouter: mapping 2: 'launch' holds a command; commands
 * in files are never run"). */
const char * const *mcr_map_file_get_warnings (McrMapFile      *self);

/* The file text, as the Windows router writes it but with proper escaping:
 * CRLF line ends, its key order, no password, autoExit or launch unless
 * @flags asks for them. */
GBytes      *mcr_map_file_to_bytes        (McrMapFile          *self,
                                           McrMapFileSaveFlags  flags);
/* Writes atomically, the file readable by its owner only (mode 0600). */
gboolean     mcr_map_file_save            (McrMapFile          *self,
                                           GFile               *file,
                                           McrMapFileSaveFlags  flags,
                                           GCancellable        *cancellable,
                                           GError             **error);
void         mcr_map_file_save_async      (McrMapFile          *self,
                                           GFile               *file,
                                           McrMapFileSaveFlags  flags,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean     mcr_map_file_save_finish     (McrMapFile          *self,
                                           GAsyncResult        *result,
                                           GError             **error);

/* Of @files (McrMapFile *; NULL entries, for files that could not be read,
 * are skipped), the index of the first at or after @from that is for
 * another server than @address (see mcr_server_address_same_server()), or
 * -1 when all of them are for that server. */
int          mcr_map_file_find_other_server (GPtrArray      *files,
                                             guint           from,
                                             const char     *address);

G_END_DECLS
