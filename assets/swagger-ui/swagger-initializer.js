// pagos-hotspot: starts Swagger UI on this service's own /openapi.json (no external requests).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: "none",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
  });
});
