-- GET of an SDK bundle as a browser asks for it (Accept-Encoding: br): latchkey's /npm/ route and nginx
-- serving the same precompressed file. Run with the bundle's URL; wrk sends the URL's path.
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
wrk.headers["Accept-Encoding"] = "br"
