// ReDoc for /openapi.json, every asset from this server (no CDN, no inline script: see the CSP).
Redoc.init("/openapi.json", { hideDownloadButton: false, disableSearch: false }, document.getElementById("redoc"));
