document.getElementById("app")!.textContent = "explorer";
