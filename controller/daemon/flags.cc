// Daemon command line (see flags.h). CLI11 does the tokenising, --help and
// --version; every option comes from the flag table (controller/flag_table.h)
// and what was given goes, as text, to ParseDaemonOptions, so every refusal
// has the same shape: `invalid value "x" for flag --name: why`.
#include "controller/daemon/flags.h"

#include <CLI/CLI.hpp>
#include <deque>

#include "k8sclient/base/version.h"

namespace hpad::ctrl {

DaemonFlags ParseDaemonFlags(const std::vector<std::string>& args) {
  DaemonFlags out;
  CLI::App app{"hpad: a standalone Kubernetes HorizontalPodAutoscaler controller (autoscaling/v2).\n"
               "Flags keep kube-controller-manager's names and defaults; durations use Go syntax (15s, 5m, 1h30m).",
               "hpad"};
  app.set_version_flag("--version", std::string("hpad ") + Version());
  app.option_defaults()->always_capture_default();

  // One slot per flag (deque: addresses stay put while CLI11 holds them).
  struct Slot {
    const FlagInfo* info = nullptr;
    std::string text;
    bool flag = false;
    CLI::Option* option = nullptr;
  };
  std::deque<Slot> slots;
  for (const auto& f : DaemonFlagTable()) {
    Slot& slot = slots.emplace_back();
    slot.info = &f;
    slot.text = f.default_text;
    const std::string names = f.name == "v" ? "-v,--v" : "--" + f.name;
    if (f.is_bool) {
      slot.flag = f.default_text == "true";
      slot.option = app.add_flag(names, slot.flag, f.help)->group(f.group);
    } else {
      slot.option = app.add_option(names, slot.text, f.help)->group(f.group);
      if (!f.type.empty()) slot.option->type_name(f.type);
    }
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out.action = DaemonFlags::Action::kExit;
    out.output = app.help();
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.action = DaemonFlags::Action::kExit;
    out.output = app.help("", CLI::AppFormatMode::All);
    return out;
  } catch (const CLI::CallForVersion& e) {
    out.action = DaemonFlags::Action::kExit;
    out.output = std::string(e.what()) + "\n";
    return out;
  } catch (const CLI::ParseError& e) {
    out.action = DaemonFlags::Action::kError;
    out.output = std::string(e.what()) + "\nRun hpad --help for the list of flags.\n";
    out.exit_code = 2;
    return out;
  }
  std::map<std::string, std::string> given;
  for (const Slot& slot : slots) {
    if (slot.option->count() == 0) continue;
    given[slot.info->name] = slot.info->is_bool ? (slot.flag ? "true" : "false") : slot.text;
  }
  auto options = ParseDaemonOptions(given);
  if (!options.ok()) {
    out.action = DaemonFlags::Action::kError;
    out.output = options.status().message() + "\n";
    out.exit_code = 2;
    return out;
  }
  out.options = std::move(options).value();
  return out;
}

}  // namespace hpad::ctrl
