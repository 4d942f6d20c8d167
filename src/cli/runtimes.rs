//! `apprunner-build runtimes`: the catalog, with end-of-support flags.

use apprunner_build::resolve::catalog::Catalog;

pub fn render_runtimes(catalog: &Catalog, today: chrono::NaiveDate) -> String {
    let mut out = String::new();
    for rt in catalog.runtimes.values() {
        let mut flags = Vec::new();
        flags.push(format!("{} build", rt.build_process));
        if !rt.app_runner {
            flags.push("extension: not an App Runner runtime".into());
        }
        match rt.end_of_support {
            Some(d) if rt.is_past_end_of_support(today) => {
                flags.push(format!("END OF SUPPORT since {d}"))
            }
            Some(d) => flags.push(format!("supported until {d}")),
            None => {}
        }
        out.push_str(&format!(
            "{:<10} {:<8} {}\n",
            rt.name,
            rt.language.to_string(),
            flags.join("; ")
        ));
        out.push_str(&format!("           versions: {}\n", rt.version_list()));
        if let Some(latest) = rt.latest() {
            if latest.build_image != latest.image {
                out.push_str(&format!(
                    "           latest:   {} (build: {})\n",
                    latest.image, latest.build_image
                ));
            } else {
                out.push_str(&format!("           latest:   {}\n", latest.image));
            }
        }
    }
    if !catalog.unsupported.is_empty() {
        out.push_str("\nApp Runner runtimes apprunner-build does not build: ");
        out.push_str(
            &catalog
                .unsupported
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push('\n');
    }
    out
}
