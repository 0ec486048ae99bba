// SVG plot of a run: two panels sharing the time axis. Top: replicas
// (desired as a step line, current as dots). Bottom: the first metric's
// current value and its target.
#include "sim/plot.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace hpad::sim {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Num(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << v;
  return o.str();
}

// A "nice" upper bound for an axis.
double NiceMax(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

}  // namespace

std::string PlotSvg(const RunResult& r, const std::string& hpa_wanted) {
  std::vector<const TimelineRow*> rows;
  std::string hpa = hpa_wanted;
  for (const auto& row : r.timeline) {
    if (hpa.empty()) hpa = row.hpa;
    if (row.hpa == hpa) rows.push_back(&row);
  }
  const double W = 800, H = 520, left = 60, right = 20, top = 40, panel = 190, gap = 50;
  const double plot_w = W - left - right;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\" font-weight=\"bold\">" << Escape(r.name) << " - "
    << Escape(hpa) << " (" << (r.passed ? "PASS" : "FAIL") << ")</text>\n";
  if (rows.empty()) {
    o << "<text x=\"" << left << "\" y=\"" << top + 20 << "\">no HPA in the timeline</text>\n</svg>\n";
    return o.str();
  }
  double t_max = 0;
  double r_max = 1;
  double m_max = 0;
  std::string metric_name, unit;
  for (const auto* row : rows) {
    t_max = std::max(t_max, std::chrono::duration<double>(row->offset).count());
    r_max = std::max({r_max, double(row->current_replicas), double(row->desired_replicas), double(row->spec_replicas)});
    if (!row->metrics.empty()) {
      const auto& m = row->metrics[0];
      if (metric_name.empty()) {
        metric_name = m.name;
        unit = !m.target.empty() && m.target.back() == '%' ? "%" : "";
      }
      if (m.current_value) m_max = std::max(m_max, *m.current_value);
      if (m.target_value) m_max = std::max(m_max, *m.target_value);
    }
  }
  if (t_max <= 0) t_max = 1;
  r_max = NiceMax(r_max + 1);
  m_max = NiceMax(m_max * 1.1);
  auto X = [&](double t) { return left + plot_w * t / t_max; };
  const double top2 = top + panel + gap;
  auto Y1 = [&](double v) { return top + panel - panel * v / r_max; };
  auto Y2 = [&](double v) { return top2 + panel - panel * v / m_max; };

  // Axes, grid and labels.
  for (double base : {top, top2}) {
    o << "<rect x=\"" << left << "\" y=\"" << base << "\" width=\"" << plot_w << "\" height=\"" << panel
      << "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (int i = 0; i <= 5; ++i) {
      double t = t_max * i / 5;
      o << "<line x1=\"" << Num(X(t)) << "\" y1=\"" << base << "\" x2=\"" << Num(X(t)) << "\" y2=\"" << base + panel
        << "\" stroke=\"#eee\"/>\n";
      o << "<text x=\"" << Num(X(t)) << "\" y=\"" << base + panel + 15 << "\" text-anchor=\"middle\">"
        << FormatOffset(std::chrono::nanoseconds(static_cast<int64_t>(t * 1e9))) << "</text>\n";
    }
  }
  for (int i = 0; i <= 4; ++i) {
    double v1 = r_max * i / 4, v2 = m_max * i / 4;
    o << "<text x=\"" << left - 6 << "\" y=\"" << Num(Y1(v1) + 4) << "\" text-anchor=\"end\">" << Num(v1)
      << "</text>\n";
    o << "<text x=\"" << left - 6 << "\" y=\"" << Num(Y2(v2) + 4) << "\" text-anchor=\"end\">" << Num(v2) << unit
      << "</text>\n";
  }
  o << "<text x=\"" << left << "\" y=\"" << top - 6 << "\">replicas: <tspan fill=\"#1f77b4\">desired</tspan>, "
    << "<tspan fill=\"#2ca02c\">current</tspan></text>\n";
  o << "<text x=\"" << left << "\" y=\"" << top2 - 6 << "\">" << Escape(metric_name.empty() ? "metric" : metric_name)
    << ": <tspan fill=\"#d62728\">current</tspan>, <tspan fill=\"#7f7f7f\">target</tspan></text>\n";

  // Desired replicas as a step line; current replicas as dots.
  std::ostringstream desired, target, current_metric;
  for (size_t i = 0; i < rows.size(); ++i) {
    double t = std::chrono::duration<double>(rows[i]->offset).count();
    double next_t = i + 1 < rows.size() ? std::chrono::duration<double>(rows[i + 1]->offset).count() : t_max;
    desired << (i ? " L" : "M") << Num(X(t)) << "," << Num(Y1(rows[i]->desired_replicas)) << " L" << Num(X(next_t))
            << "," << Num(Y1(rows[i]->desired_replicas));
    o << "<circle cx=\"" << Num(X(t)) << "\" cy=\"" << Num(Y1(rows[i]->current_replicas))
      << "\" r=\"2.5\" fill=\"#2ca02c\"/>\n";
  }
  o << "<path d=\"" << desired.str() << "\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n";
  bool first_t = true, first_c = true;
  for (const auto* row : rows) {
    if (row->metrics.empty()) continue;
    const auto& m = row->metrics[0];
    double t = std::chrono::duration<double>(row->offset).count();
    if (m.target_value) {
      target << (first_t ? "M" : " L") << Num(X(t)) << "," << Num(Y2(*m.target_value));
      first_t = false;
    }
    if (m.current_value) {
      current_metric << (first_c ? "M" : " L") << Num(X(t)) << "," << Num(Y2(*m.current_value));
      first_c = false;
    } else {
      first_c = true;  // a gap where the metric was unknown
    }
  }
  if (!first_t || !target.str().empty())
    o << "<path d=\"" << target.str() << "\" fill=\"none\" stroke=\"#7f7f7f\" stroke-dasharray=\"6,4\"/>\n";
  if (!current_metric.str().empty())
    o << "<path d=\"" << current_metric.str() << "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace hpad::sim
