#!/usr/bin/env node
// Validates Kubernetes manifests against the Kubernetes object schemas, offline.
//
// Usage: node validate.js PATH...   (a PATH is a YAML file or a folder)
//
// Every *.yaml / *.yml file under a folder is read, except inside a Helm chart
// (a folder holding Chart.yaml): templates are not YAML until rendered, and no
// helm binary is reachable here (manifests/README.md says how the chart is
// kept in step instead). Every non-empty document must name an apiVersion and
// a kind that the `kubernetes-models` package has a class for, and must pass
// that class's JSON-schema validation (field types, required fields, enums,
// formats). An object of an unknown kind, a file that does not parse, or no
// object at all is a failure: this script never passes by skipping.
//
// Exit status: 0 when every object is valid, 1 otherwise, 2 on bad usage or
// when the modules are missing (run.sh installs them with `npm ci`).
"use strict";

const fs = require("fs");
const path = require("path");

function loadModule(name) {
  try {
    return require(name);
  } catch (err) {
    console.error(`manifests_schema: cannot load the npm module "${name}" (${err.code || err.message});` +
                  " install tests/manifests/package-lock.json with npm ci first (tests/manifests/run.sh does)");
    process.exit(2);
  }
}

const yaml = loadModule("js-yaml");
loadModule("kubernetes-models");  // fail early and clearly when the package is absent

// Files to read, in a stable order: folders are walked depth-first, charts skipped.
function collect(target, out) {
  const st = fs.statSync(target);
  if (st.isFile()) {
    out.push(target);
    return;
  }
  if (fs.existsSync(path.join(target, "Chart.yaml"))) return;  // a Helm chart: see the header
  for (const entry of fs.readdirSync(target).sort()) {
    const p = path.join(target, entry);
    if (fs.statSync(p).isDirectory()) collect(p, out);
    else if (/\.ya?ml$/.test(entry)) out.push(p);
  }
}

// "apps/v1" + "Deployment" -> kubernetes-models/apps/v1/Deployment; core "v1" -> kubernetes-models/v1/...
function modelClass(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) return null;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  let mod;
  try {
    mod = require(`kubernetes-models/${apiVersion}/${kind}`);
  } catch (err) {
    if (err.code === "MODULE_NOT_FOUND") return null;
    throw err;
  }
  const cls = mod[kind];
  // The path mapping must land on the class of exactly this apiVersion and kind.
  if (typeof cls !== "function" || cls.apiVersion !== apiVersion || cls.kind !== kind) return null;
  return cls;
}

function describe(err) {
  if (Array.isArray(err.errors) && err.errors.length > 0) {
    return err.errors.map((e) => `${e.instancePath || "/"} ${e.message}` +
                                 (e.params ? ` ${JSON.stringify(e.params)}` : "")).join("; ");
  }
  return err.message || String(err);
}

function main(argv) {
  if (argv.length === 0) {
    console.error("usage: node validate.js PATH...");
    return 2;
  }
  const files = [];
  for (const target of argv) {
    if (!fs.existsSync(target)) {
      console.error(`manifests_schema: ${target}: no such file or folder`);
      return 2;
    }
    collect(target, files);
  }
  let valid = 0;
  let invalid = 0;
  const fail = (where, why) => {
    ++invalid;
    console.log(`INVALID ${where}: ${why}`);
  };
  for (const file of files) {
    let docs;
    try {
      docs = yaml.loadAll(fs.readFileSync(file, "utf8"));
    } catch (err) {
      fail(file, `YAML does not parse: ${err.message}`);
      continue;
    }
    docs.forEach((doc, index) => {
      if (doc === null || doc === undefined) return;  // an empty document (e.g. after a trailing ---)
      const where = `${file}#${index}`;
      if (typeof doc !== "object" || Array.isArray(doc)) return fail(where, "not a mapping");
      const { apiVersion, kind } = doc;
      if (typeof apiVersion !== "string" || typeof kind !== "string") {
        return fail(where, "apiVersion and kind must be strings");
      }
      const name = doc.metadata && typeof doc.metadata.name === "string" ? doc.metadata.name : "?";
      const what = `${where} ${apiVersion} ${kind} ${name}`;
      const cls = modelClass(apiVersion, kind);
      if (cls === null) return fail(what, "no schema for this apiVersion/kind in kubernetes-models");
      try {
        new cls(doc).validate();
      } catch (err) {
        return fail(what, describe(err));
      }
      ++valid;
      console.log(`ok ${what}`);
    });
  }
  console.log(`manifests_schema: ${files.length} files, ${valid} objects valid, ${invalid} invalid`);
  if (valid + invalid === 0) {
    console.log("manifests_schema: no object found: nothing was validated");
    return 1;
  }
  return invalid === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
