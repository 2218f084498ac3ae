// Swagger UI for /openapi.json, every asset from this server (no CDN, no inline script: see the CSP).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null, // the default would send the document to an online validator
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
